"""Masks for personal data shown on screens, in the API and in exports."""


def mask_document_number(number: str) -> str:
    """3205**********1373: first four and last four characters kept."""
    if not number:
        return ""
    if len(number) <= 8:
        return number[:1] + "*" * (len(number) - 1)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_phone(number: str) -> str:
    """138****1234 for a mobile; fixed lines keep the area code and the last four digits."""
    if not number:
        return ""
    if len(number) == 11 and number.startswith("1"):
        return number[:3] + "****" + number[-4:]
    if len(number) > 8:
        return number[:4] + "*" * (len(number) - 8) + number[-4:]
    if len(number) > 6:  # too short to hold an area code: keep the last four digits only
        return "*" * (len(number) - 4) + number[-4:]
    return "*" * len(number)


def mask_name(name: str) -> str:
    """张* / 欧阳** : the first character kept."""
    if not name:
        return ""
    return name[:1] + "*" * (len(name) - 1)
