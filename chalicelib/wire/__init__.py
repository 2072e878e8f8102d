"""Wire models: the base of opsplane's pydantic models, and (wavefront.py) the Wavefront
client's models, generated from the pinned wavefront-api-client (make wire)."""

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """The base of every pydantic model here: validators are built on first use, not at
    import, since a Lambda cold start imports every model of its category and most are
    never used by its first request."""

    model_config = ConfigDict(defer_build=True)
