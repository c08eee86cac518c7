"""`kyt serve`: the screening API (FastAPI on uvicorn) over the engine and the case database."""
