"""Check the ``[evaluation]`` extra before the modules that import it load."""

from .._optional import import_optional

for _module in ("pandas", "imblearn", "tqdm"):
    import_optional(_module, "evaluation", purpose="skalign.evaluation")
