"""Sheet imports that write other domains in bulk: the member roster (`roster`, a resumable job) and the
organisation tree (`orgs`, synchronous, all or nothing). This app sits above members and orgs in the layers and has
no models (the roster's outcome rows, `RosterImportRow`, stay in members)."""
