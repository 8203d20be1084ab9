"""How the project starts Chromium: Debian's binary (never a downloaded browser), headless, with the background
network traffic switched off (the machines reach nothing but package registries). Shared by the browser tests
and the README screenshot script."""

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}
