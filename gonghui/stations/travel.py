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


def duration_text(minutes: int) -> str:
    """A travel time as a person says it: '约25分钟' under an hour; from one hour to under ten, to the nearest half
    hour ('约1小时', '约1个半小时', '约2小时': a walk of 121 minutes is about two hours, and minutes would be false
    precision on a straight-line model); from ten hours on, whole hours. Halves round up (75 minutes is 约1个半小时)."""
    if minutes < 60:
        return f"约{minutes}分钟"
    if minutes < 600:
        halves = (minutes + 15) // 30  # half hours, rounded half up
        hours, half = divmod(halves, 2)
        return f"约{hours}个半小时" if half else f"约{hours}小时"
    return f"约{(minutes + 30) // 60}小时"
