"""The store's operations at a glance, for any admin page that shows figures: how far they can be
trusted (the last verification, seal and signed head, how far projections are behind, how many events
they passed over) and what needs an operator (unresolved projection errors, events set aside,
subscriptions behind, and for operators the deployment's checks of /status). Limited to the streams
and organizations the user may see (`registry.visible_organizations`): nothing here counts another
organization's events."""

from eventstore import registry
from eventstore.admin.events import of_visible_streams
from eventstore.delivery import lag as subscription_lag
from eventstore.integrity.models import ChainVerification, Seal
from eventstore.integrity.verification import latest_verifications
from eventstore.ledger import service as ledger
from eventstore.projections.lag import lag
from eventstore.projections.models import ProjectionError, SetAsideEvent
from eventstore.replica import primary_reads
from eventstore.web.status import status

LISTED = 20  # rows of errors and set-aside events shown; the counts cover them all


def trust(request, lags: list | None = None) -> dict:
    """The last verification (and the last of each kind, full and incremental) and seal, the ledger's
    state, and how far projections are behind (`lags`, when the caller has read them already)."""
    lags = lag() if lags is None else lags
    latest = latest_verifications()
    return {
        "verification": max(latest.values(), key=lambda run: run.ran_at, default=None),
        "verification_passes": [{"kind": kind, "run": latest.get(kind)} for kind, _ in ChainVerification.KINDS],
        "ledger": ledger.ledger_status(),
        "seal": Seal.objects.order_by("-id").first(),
        "lags": lags,
        "events_behind": sum(each.events_behind for each in lags),
        "seconds_behind": max((each.seconds_behind for each in lags), default=0.0),
        "set_aside_count": of_visible_streams(request, SetAsideEvent.objects.all()).count(),
    }


def operations(request, *, temporal_cache_seconds: float = 0) -> dict:
    """`trust`, with the projection errors, set-aside events and subscriptions of the user's streams.
    `every_organization` tells whether the user sees the whole store, and so may see figures about
    it (workflow counts, events checked) and the deployment's checks (`deployment_checks`, as
    /status answers them, Temporal's answer kept up to `temporal_cache_seconds`). The projections'
    lag, the costliest figure here, is read once for both."""
    visible = registry.visible_organizations(request.user)
    if visible is None:
        with primary_reads():  # the deployment's checks read the primary: the trust figures agree with them
            lags = lag()
        checks = status(lags=lags, temporal_cache_seconds=temporal_cache_seconds)
    else:
        lags, checks = lag(), []
    return {
        "every_organization": visible is None,
        "deployment_checks": checks,
        "projection_errors": of_visible_streams(request, ProjectionError.objects.filter(resolved_at__isnull=True))[:LISTED],
        "set_aside": list(of_visible_streams(request, SetAsideEvent.objects.all())[:LISTED]),
        "subscriptions": subscription_lag.lag(organizations=visible),
        **trust(request, lags),
    }
