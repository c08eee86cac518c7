"""The support routes of the screening API: a customer's inquiries by tracking number, and survey answers.

`GET /v1/inquiries/{tracking_number}` (scope `inquiries:read`) tells the platform where the
customer's inquiries stand, in the words the customer may read. `POST /v1/surveys/{token}`
(scope `surveys`) records the customer's rating 1-5 and optional comment, once: 404 for an
unknown link, 409 for one answered or expired, 422 naming the field of a bad body.
"""

from __future__ import annotations

from typing import Callable

from fastapi import FastAPI, Header, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from cases.errors import CaseError, NotFound
from cases.replies import inbox, surveys
from ui.messages import render

SERVICE_ACTOR = "system:api:"


class SurveyAnswer(BaseModel):
    """The customer's answer: how satisfied, 1 (not at all) to 5 (very), and an optional comment."""

    model_config = ConfigDict(extra="forbid")
    rating: StrictInt = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=surveys.COMMENT_LONGEST)


def add_support_routes(app: FastAPI, state, *, answer: Callable[..., JSONResponse],
                       allowed: Callable[..., object]) -> None:
    """Add the inquiry and survey routes to `app` over the API's `state` (see ui.api.app)."""

    @app.get("/v1/inquiries/{tracking_number}")
    def inquiries(request: Request, tracking_number: str = Path(min_length=1, max_length=20), *,
                  authorization: str | None = Header(None), x_api_key: str | None = Header(None)) -> JSONResponse:
        """The customer's inquiries under a tracking number: kind, channel, topic, the times, whether resolved,
        and the case's status in the customer's words (nothing of the investigation)."""
        key = allowed("inquiries:read", authorization, x_api_key)
        found = inbox.by_tracking_number(state.store, SERVICE_ACTOR + key.name, tracking_number, now=state.now())
        if not found:
            return answer(request, key.name, 404, subject=tracking_number,
                          body={"detail": f"no inquiry has the tracking number {tracking_number!r}"})
        return answer(request, key.name, 200, subject=tracking_number,
                      body={"tracking_number": found[0]["tracking_number"], "inquiries": found})

    @app.post("/v1/surveys/{token}")
    def survey(body: SurveyAnswer, request: Request, token: str = Path(min_length=16, max_length=100), *,
               authorization: str | None = Header(None), x_api_key: str | None = Header(None)) -> JSONResponse:
        """Record the customer's answer to a satisfaction survey (the token is the last part of the link)."""
        key = allowed("surveys", authorization, x_api_key)
        try:
            kept = surveys.answer(state.store, token, rating=body.rating, comment=body.comment, via=key.name,
                                  now=state.now())
        except NotFound as error:
            return answer(request, key.name, 404, body={"detail": str(error)}, subject="survey")
        except surveys.SurveyClosed as error:
            return answer(request, key.name, 409, body={"detail": str(error)}, subject="survey")
        except CaseError as error:
            return answer(request, key.name, 422, body={"detail": [{"loc": ["body"], "msg": render(error)}]},
                          subject="survey")
        return answer(request, key.name, 200, body=surveys.public(kept), subject=f"survey {kept.id}")
