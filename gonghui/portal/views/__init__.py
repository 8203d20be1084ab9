"""The member portal's views, one module per topic: sign-in (account), joining a union (joining), transfers,
the member's own card and data (member), the service centre (services), the station map (stations) and the
inbox (messages). Shared page helpers live in common. Thin: read the form, call one service or selector,
render. A member only ever reaches their own record; anything else answers like a missing page."""
