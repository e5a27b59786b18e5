"""Twin of HotelsAvailabilityFunction: validate the search with pydantic, ask Hotelbeds for hotels and rates."""

import datetime as dt
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, ConfigDict, Field, model_validator
from seed import logger
from seed_hotelbeds import BOOKING_API, Availability, hotelbeds

app = APIGatewayRestResolver(enable_validation=True)


class Occupancy(BaseModel):
    """One room: its adults and each child's age."""

    adults: int = Field(ge=1, le=8)
    children_ages: list[int] = Field(default_factory=list, max_length=4)


class Search(BaseModel):
    """Dates, rooms, and either hotel codes or a destination."""

    model_config = ConfigDict(extra="forbid")

    check_in: dt.date
    check_out: dt.date
    rooms: list[Occupancy] = Field(min_length=1, max_length=9)
    hotels: list[int] | None = Field(default=None, min_length=1)
    destination: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")

    @model_validator(mode="after")
    def _stay(self) -> "Search":
        if not self.check_in < self.check_out or (self.hotels is None) == (self.destination is None):
            raise ValueError("check_out must follow check_in; give either hotels or destination")
        return self


@app.post("/hotels/availability")
def search(request: Annotated[Search, Body()]) -> Response[dict[str, Any]]:
    """Hotels and rates from APItude."""
    occupancies = [
        {"rooms": 1, "adults": room.adults, "children": len(room.children_ages)}
        | ({"paxes": [{"type": "CH", "age": age} for age in room.children_ages]} if room.children_ages else {})
        for room in request.rooms
    ]
    body: dict[str, Any] = {
        "stay": {"checkIn": request.check_in.isoformat(), "checkOut": request.check_out.isoformat()},
        "occupancies": occupancies,
    }
    body |= {"hotels": {"hotel": request.hotels}} if request.hotels else {"destination": {"code": request.destination}}
    availability = Availability.model_validate(hotelbeds("POST", f"{BOOKING_API}/hotels", json=body).get("hotels", {}))
    return Response(status_code=200, content_type="application/json", body=availability.model_dump(mode="json"))


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway entry point."""
    return app.resolve(event, context)
