"""The cases the enforcement must pass, played end to end as a host would."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from trackconsent import (
    UNTRACKED_LABEL,
    Answer,
    Channel,
    ConsentState,
    Counters,
    Engagement,
    EngagementKind,
    InjectionRule,
    MemoryStore,
    Message,
    Outcome,
    ProjectSettings,
    RecipientResult,
    ResultSet,
    Trigger,
    Verdict,
    filter_results,
    record_engagement,
    rule_applies,
    select_by_history,
    should_record_send_history,
    tracking_plan,
)
from trackconsent.export import results_document, write_results_csv
from trackconsent.testing import make_event

T0 = datetime(2024, 1, 1, tzinfo=UTC)
SETTINGS = ProjectSettings("acme").switch_feature(True, actor="operator", at=T0)

# The engagement each channel can observe: SMS has no opens.
ENGAGEMENT = {
    Channel.EMAIL: EngagementKind.OPEN,
    Channel.PUSH: EngagementKind.OPEN,
    Channel.SMS: EngagementKind.CLICK,
}


class Host:
    """A minimal host: a store, counters, per-contact history, as a platform keeps."""

    def __init__(self) -> None:
        """Start with an empty store and no history."""
        self.store = MemoryStore()
        self.counters: dict[str, Counters] = {}
        self.history: list[tuple[str, str, Outcome]] = []

    def send(self, message: Message, contact: str) -> None:
        """Send ``message`` to ``contact``: count it, and write history if allowed."""
        consent = self.store.status(contact)
        self._count(message, Outcome.SENT)
        if should_record_send_history(consent, SETTINGS):
            self.history.append((contact, message.message_id, Outcome.SENT))

    def arrive(self, event: Engagement) -> Verdict:
        """Judge an arriving engagement by the consent in force now."""
        consent = self.store.status(event.contact_id) if event.contact_id else None
        record = record_engagement(event, consent, SETTINGS)
        if record.outcome is not None and record.message_id is not None:
            assert record.channel is not None
            message = Message(record.message_id, record.channel)
            self._count(message, record.outcome)
        if record.contact_id is not None and record.outcome is not None:
            assert record.message_id is not None
            self.history.append((record.contact_id, record.message_id, record.outcome))
        return record.verdict

    def _count(self, message: Message, outcome: Outcome) -> None:
        empty = Counters(message.message_id, message.channel)
        counted = self.counters.get(message.message_id, empty)
        self.counters[message.message_id] = counted.add(outcome)

    def result_set(self, message: Message, recipients: list[str]) -> ResultSet:
        """The per-recipient rows the host can build, with its counters."""
        rows = []
        for contact in recipients:
            seen = {
                outcome
                for who, mid, outcome in self.history
                if who == contact and mid == message.message_id
            }
            rows.append(RecipientResult(contact, seen | {Outcome.SENT}))
        counted = self.counters[message.message_id]
        return ResultSet(message.message_id, message.channel, rows, counted)


def _engage(
    kind: EngagementKind, message: Message, contact: str | None, days: float
) -> Engagement:
    return Engagement(
        kind=kind,
        occurred_at=T0 + timedelta(days=days),
        message_id=message.message_id,
        channel=message.channel,
        contact_id=contact,
        verified=contact is not None,
        ip="198.51.100.4",
        user_agent="Mozilla/5.0",
        url="https://shop.example/sale?c=1" if kind is EngagementKind.CLICK else None,
    )


def test_case_1_a_click_after_a_withdrawal_is_counted_but_not_tied() -> None:
    """Given B accepted, M sent to B, then B refused, when B clicks a link of M,
    then M counts the click without B, the next message to B has no pixel and
    plain links, and B's history shows accepted then refused.
    """
    host = Host()
    accepted = make_event("B", Answer.GRANTED, 1)
    refused = make_event("B", Answer.REFUSED, 3)
    host.store.append([accepted])
    m = Message("M", Channel.EMAIL)
    assert tracking_plan(host.store.status("B"), m, SETTINGS).open_pixel
    host.send(m, "B")
    host.store.append([refused])

    verdict = host.arrive(_engage(EngagementKind.CLICK, m, "B", 4))

    assert verdict is Verdict.UNTRACKED
    assert host.counters["M"][Outcome.CLICKED] == 1
    assert ("B", "M", Outcome.CLICKED) not in host.history
    plan = tracking_plan(host.store.status("B"), Message("N", Channel.EMAIL), SETTINGS)
    assert (plan.open_pixel, plan.rewrite_links) == (False, False)
    assert host.store.history("B") == [refused, accepted]


@pytest.mark.parametrize("channel", list(Channel), ids=lambda c: c.value)
def test_case_2_and_5_one_untracked_recipient_of_three_on_every_channel(
    channel: Channel,
) -> None:
    """Given three recipients, one untracked, all engaging, on email, SMS and
    push, then totals count three, the view lists two, "Untracked contacts: 1",
    and no row, history entry, segment match or export names the untracked one.
    """
    host = Host()
    host.store.append([make_event("u-refuser", Answer.REFUSED, 1)])
    host.store.append([make_event("t-1", Answer.GRANTED, 1)])
    recipients = ["t-1", "u-refuser", "t-2"]
    message = Message("M", channel)
    kind = ENGAGEMENT[channel]
    outcome = Outcome.OPENED if kind is EngagementKind.OPEN else Outcome.CLICKED

    for contact in recipients:
        host.send(message, contact)
    for contact in recipients:
        host.arrive(_engage(kind, message, contact, 2))
    view = filter_results(host.result_set(message, recipients), host.store, SETTINGS)

    assert (view.totals[Outcome.SENT], view.totals[outcome]) == (3, 3)
    assert [row.contact_id for row in view.rows] == ["t-1", "t-2"]
    assert view.untracked_entry == (UNTRACKED_LABEL, 1)
    assert all(who != "u-refuser" for who, _, _ in host.history)
    engaged = [who for who, _, o in host.history if o is outcome]
    assert select_by_history(engaged, host.store, SETTINGS).contact_ids == (
        "t-1",
        "t-2",
    )
    not_engaged = [c for c in recipients if c not in engaged]
    assert select_by_history(not_engaged, host.store, SETTINGS).contact_ids == ()
    csv_text = io.StringIO(newline="")
    write_results_csv(view, csv_text, consents=host.store)
    exported = csv_text.getvalue() + json.dumps(results_document(view))
    assert "u-refuser" not in exported + repr(view) + repr(list(view))
    assert f"{UNTRACKED_LABEL},1" in csv_text.getvalue()


@pytest.mark.parametrize("kind", [EngagementKind.VISIT, EngagementKind.CLICK])
def test_case_3_without_a_contact_token_an_engagement_stays_anonymous(
    kind: EngagementKind,
) -> None:
    """Given a visit or click carrying no contact token, then it is anonymous,
    credited to no one, and a click still counts toward its message.
    """
    host = Host()
    host.store.append([make_event("B", Answer.GRANTED, 1)])
    message = Message("M", Channel.EMAIL)
    event = _engage(kind, message, None, 2)

    verdict = host.arrive(event)

    assert verdict is Verdict.ANONYMOUS
    assert host.history == []
    clicks = host.counters.get("M", Counters("M", Channel.EMAIL))[Outcome.CLICKED]
    assert clicks == (kind is EngagementKind.CLICK)
    record = record_engagement(event, None, SETTINGS)
    assert (record.contact_id, record.ip, record.user_agent) == (None, None, None)


def test_case_4_an_on_click_rule_follows_refusal_and_acceptance() -> None:
    """Given an "on click" rule, then it runs for a tracked contact, not after
    they refuse, and again after they accept.
    """
    store = MemoryStore()
    rule = InjectionRule.new("on-click", Trigger.CLICKED, SETTINGS)
    store.append([make_event("B", Answer.GRANTED, 1)])
    assert rule_applies(rule, store.status("B"), SETTINGS)

    store.append([make_event("B", Answer.REFUSED, 2)])
    assert not rule_applies(rule, store.status("B"), SETTINGS)

    store.append([make_event("B", Answer.GRANTED, 3)])
    assert rule_applies(rule, store.status("B"), SETTINGS)
    assert store.status("B").state is ConsentState.GRANTED
