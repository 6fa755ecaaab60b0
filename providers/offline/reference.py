from __future__ import annotations

from pathlib import Path

from core.contracts import ReferenceImage, VideoPlan
from core.errors import ProviderError
from core.plan import seed_of
from core.reference import cache_key, paint_reference
from core.uris import to_uri
from providers.base import ReferenceGenerator


class ProceduralReference(ReferenceGenerator):
    provider_id = "offline"
    model = "procedural-v1"
    code_modules = ("core.reference",)
    size = (1024, 576)

    def generate(self, plan: VideoPlan, *, description: str, out: Path) -> ReferenceImage:
        try:
            paint_reference(plan.style, out, seed=seed_of(description), size=self.size)
        except OSError as exc:
            raise ProviderError(f"cannot write reference image: {exc}", provider=self.provider_id) from exc
        return ReferenceImage(
            uri=to_uri(out),
            description=description,
            cache_key=cache_key(description, self.cache_identity()),
            palette=plan.style.palette,
            provider=self.provider_id,
            model=self.model,
            width=self.size[0],
            height=self.size[1],
            status="generated",
        )
