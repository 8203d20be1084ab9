"""The travel model of the 15-minute circle: straight-line distance × a detour factor, at a constant speed.

Streets are not straight: on a city grid the distance travelled is about 1.3 times the straight line (the ratio
measured for urban street networks is typically 1.2–1.4), so 15 minutes on foot at 5 km/h (1,250 m travelled) reach
about 960 m in a straight line, and 15 minutes on an e-bike at 15 km/h (3,750 m) about 2,880 m. A river without a
bridge or a walled campus makes the real detour larger: docs/stations.md says how to plug in a routing service.
"""

import math
from dataclasses import dataclass

DETOUR_FACTOR = 1.3
CIRCLE_MINUTES = 15


@dataclass(frozen=True)
class Mode:
    key: str
    label: str
    kmh: float

    def minutes(self, straight_m: float) -> int:
        """Whole minutes (rounded up) to cover `straight_m` of straight-line distance."""
        return max(1, math.ceil(straight_m * DETOUR_FACTOR / (self.kmh * 1000 / 60)))

    def reach_m(self, minutes: float = CIRCLE_MINUTES) -> float:
        """The straight-line distance reachable in `minutes`."""
        return self.kmh * 1000 / 60 * minutes / DETOUR_FACTOR


WALK = Mode("walk", "步行", 5.0)
RIDE = Mode("ride", "骑行（电动自行车）", 15.0)
MODES = {WALK.key: WALK, RIDE.key: RIDE}


def distance_text(metres: float) -> str:
    """'850 米' below a kilometre, '2.4 公里' above."""
    return f"{metres:.0f} 米" if round(metres) < 1000 else f"{metres / 1000:.1f} 公里"
