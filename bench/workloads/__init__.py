"""The workloads, in the order they run. Each has run(cfg, results, tmp).

single, bulk and placeholder measure the variant databases (variants.py),
each naming in NEEDS the (variant, model_id type) databases it uses; upgrade,
analytics, doctor and sweep share the big database (bigdb.py), and upgrade
leaves its last upgraded copy for analytics and doctor; sweep makes its own copy."""

from workloads import analytics, bulk, doctor, placeholder, single, sweep, upgrade

ON_VARIANTS = {"single": single.run, "bulk": bulk.run, "placeholder": placeholder.run}
NEEDS = {"single": single.NEEDS, "bulk": bulk.NEEDS, "placeholder": placeholder.NEEDS}
ON_BIG_DATABASE = {"upgrade": upgrade.run, "analytics": analytics.run, "doctor": doctor.run, "sweep": sweep.run}
NAMES = [*ON_VARIANTS, *ON_BIG_DATABASE]
