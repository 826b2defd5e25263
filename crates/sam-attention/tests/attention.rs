//! The attention rules, through the public API, with a hand-driven clock.

use sam_attention::{
    Activity, Attention, AttentionConfig, Effect, Input, NeedsYouQueue, Notification,
    NotificationKind, NotificationTag, OpenRequest, OptionKind, PermissionChoice, SessionInfo,
    StopReason, Target, Urgency, View, WorkspaceInfo,
};

const SEC: u64 = 1_000;
const MIN: u64 = 60 * SEC;
/// A clock that does not start at zero, so no rule can lean on `now == 0`.
const T0: u64 = 1_700_000_000_000;

// ----- helpers -----

fn choice(id: &str, name: &str, kind: OptionKind) -> PermissionChoice {
    PermissionChoice {
        option_id: id.to_owned(),
        name: name.to_owned(),
        kind,
    }
}

fn request(session: &str, workspace: &str, number: u32, at: u64) -> OpenRequest {
    OpenRequest {
        session_id: session.to_owned(),
        workspace_id: workspace.to_owned(),
        request: number,
        seq: Some(i64::from(number) * 10),
        title: format!("Run tests #{number}"),
        options: vec![
            choice("always", "Always Allow", OptionKind::AllowAlways),
            choice("allow", "Allow", OptionKind::AllowOnce),
            choice("reject", "Reject", OptionKind::RejectOnce),
        ],
        requested_at_ms: at,
    }
}

/// Two named workspaces (`w1` "alpha" with a cost, `w2` "beta") and two titled sessions in
/// `w1` (`s1`, `s2`) and one in `w2` (`s3`).
fn fresh() -> Attention {
    attention_with(AttentionConfig::default())
}

fn attention_with(config: AttentionConfig) -> Attention {
    let mut attention = Attention::new(config);
    name_all(&mut attention);
    attention
}

fn name_all(attention: &mut Attention) {
    attention.upsert_workspace(WorkspaceInfo {
        workspace_id: "w1".to_owned(),
        name: "alpha".to_owned(),
        cost: Some("€0.42".to_owned()),
    });
    attention.upsert_workspace(WorkspaceInfo {
        workspace_id: "w2".to_owned(),
        name: "beta".to_owned(),
        cost: None,
    });
    for (session, workspace, title) in [
        ("s1", "w1", "Fix the login bug"),
        ("s2", "w1", "Write docs"),
        ("s3", "w2", "Refactor"),
    ] {
        attention.upsert_session(SessionInfo {
            session_id: session.to_owned(),
            workspace_id: workspace.to_owned(),
            title: title.to_owned(),
        });
    }
}

fn workspace_of(session: &str) -> &'static str {
    if session == "s3" { "w2" } else { "w1" }
}

fn asked(session: &str, number: u32, at: u64) -> Input {
    Input::PermissionRequested(request(session, workspace_of(session), number, at))
}

fn resolved(session: &str, number: u32) -> Input {
    Input::PermissionResolved {
        session_id: session.to_owned(),
        request: number,
    }
}

fn started(session: &str) -> Input {
    Input::TurnStarted {
        session_id: session.to_owned(),
        workspace_id: workspace_of(session).to_owned(),
    }
}

fn ended(session: &str, stop_reason: StopReason) -> Input {
    Input::TurnFinished {
        session_id: session.to_owned(),
        workspace_id: workspace_of(session).to_owned(),
        stop_reason,
        seq: Some(7),
    }
}

fn finished(session: &str) -> Input {
    ended(session, StopReason::EndTurn)
}

fn failed(session: &str) -> Input {
    Input::SessionFailed {
        session_id: session.to_owned(),
        workspace_id: workspace_of(session).to_owned(),
        seq: None,
    }
}

fn silent(session: &str) -> Input {
    Input::AgentSilent {
        session_id: session.to_owned(),
        workspace_id: workspace_of(session).to_owned(),
        silent_ms: 5 * MIN,
    }
}

fn idle_warning(workspace: &str, minutes_left: u64) -> Input {
    Input::IdleDeletionWarning {
        workspace_id: workspace.to_owned(),
        minutes_left,
    }
}

fn budget(workspace: &str, percent: u32) -> Input {
    Input::BudgetThresholdCrossed {
        workspace_id: workspace.to_owned(),
        percent,
        amount: "€4.20".to_owned(),
    }
}

fn looking_at(session: &str) -> View {
    View {
        session_id: Some(session.to_owned()),
        focused: true,
    }
}

fn notified(effects: &[Effect]) -> Vec<&Notification> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Notify(notification) => Some(notification),
            Effect::Withdraw(_) => None,
        })
        .collect()
}

fn kinds(effects: &[Effect]) -> Vec<NotificationKind> {
    notified(effects).iter().map(|n| n.kind).collect()
}

fn withdrawn(effects: &[Effect]) -> Vec<&str> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Withdraw(tag) => Some(tag.as_str()),
            Effect::Notify(_) => None,
        })
        .collect()
}

fn only(effects: &[Effect]) -> &Notification {
    let shown = notified(effects);
    assert_eq!(shown.len(), 1, "expected one notification in {effects:?}");
    shown[0]
}

/// Runs `tick` every `step` from `from` to `to` (inclusive), collecting what it shows.
fn tick_through(attention: &mut Attention, from: u64, to: u64, step: u64) -> Vec<(u64, Effect)> {
    let mut out = Vec::new();
    let mut now = from;
    while now <= to {
        out.extend(attention.tick(now).into_iter().map(|e| (now, e)));
        now += step;
    }
    out
}

// ----- the queue -----

#[test]
fn queue_is_oldest_first_with_ages() {
    let mut attention = fresh();
    attention.handle(asked("s3", 1, T0 + 5 * SEC), T0 + 5 * SEC);
    attention.handle(asked("s2", 4, T0), T0 + 6 * SEC);
    attention.handle(asked("s1", 2, T0), T0 + 7 * SEC);
    attention.handle(asked("s1", 1, T0 + 2 * SEC), T0 + 8 * SEC);
    let items = attention.queue_items(T0 + 10 * SEC);
    let order: Vec<(&str, u32, u64)> = items
        .iter()
        .map(|i| (i.request.session_id.as_str(), i.request.request, i.age_ms))
        .collect();
    assert_eq!(
        order,
        vec![
            ("s1", 2, 10 * SEC),
            ("s2", 4, 10 * SEC),
            ("s1", 1, 8 * SEC),
            ("s3", 1, 5 * SEC),
        ]
    );
    assert_eq!(attention.badge_count(), 4);
    // A clock behind the request's time gives age 0, not an underflow.
    assert_eq!(attention.queue_items(T0)[3].age_ms, 0);
}

#[test]
fn a_repeated_request_is_queued_and_notified_once() {
    let mut attention = fresh();
    assert_eq!(attention.handle(asked("s1", 1, T0), T0).len(), 1);
    assert!(attention.handle(asked("s1", 1, T0), T0 + SEC).is_empty());
    assert_eq!(attention.queue().len(), 1);
}

#[test]
fn queue_from_open_sorts_and_keeps_one_per_request() {
    let queue = NeedsYouQueue::from_open(vec![
        request("s2", "w1", 1, T0 + 3),
        request("s1", "w1", 1, T0 + 1),
        request("s1", "w1", 1, T0 + 2),
        request("s3", "w2", 9, T0),
    ]);
    let order: Vec<(&str, u32, u64)> = queue
        .iter()
        .map(|r| (r.session_id.as_str(), r.request, r.requested_at_ms))
        .collect();
    assert_eq!(
        order,
        vec![("s3", 9, T0), ("s1", 1, T0 + 1), ("s2", 1, T0 + 3)]
    );
    assert!(NeedsYouQueue::from_open(Vec::new()).is_empty());
}

#[test]
fn attention_from_open_shows_nothing_but_counts_everything() {
    let open = vec![request("s1", "w1", 1, T0), request("s3", "w2", 2, T0 + MIN)];
    let mut attention = Attention::from_open(AttentionConfig::default(), open, T0 + 2 * MIN);
    name_all(&mut attention);
    assert_eq!(attention.badge_count(), 2);
    let tray = attention.tray(T0 + 2 * MIN);
    assert_eq!(tray.state, Activity::NeedsYou);
    let needs: Vec<(&str, &str, u64)> = tray
        .needs_you
        .iter()
        .map(|n| (n.label.as_str(), n.workspace_name.as_str(), n.age_ms))
        .collect();
    assert_eq!(
        needs,
        vec![
            ("Run tests #1", "alpha", 2 * MIN),
            ("Run tests #2", "beta", MIN)
        ]
    );
    // The first reminder is still 10 minutes after each was asked.
    assert_eq!(attention.next_deadline(), Some(T0 + 10 * MIN));
    assert!(attention.tick(T0 + 9 * MIN).is_empty());
}

#[test]
fn resolving_removes_the_request_and_withdraws_its_notification() {
    let mut attention = fresh();
    attention.handle(asked("s1", 1, T0), T0);
    attention.handle(asked("s1", 2, T0), T0);
    let effects = attention.handle(resolved("s1", 1), T0 + SEC);
    assert_eq!(withdrawn(&effects), vec!["permission:s1:1"]);
    assert!(notified(&effects).is_empty());
    assert_eq!(attention.queue().len(), 1);
    assert!(attention.queue().get("s1", 1).is_none());
    // Answered twice (app and CLI): the second answer changes nothing.
    assert!(attention.handle(resolved("s1", 1), T0 + 2 * SEC).is_empty());
    // Never heard of: nothing.
    assert!(attention.handle(resolved("s9", 1), T0).is_empty());
}

#[test]
fn resolving_a_request_that_was_never_shown_only_dequeues_it() {
    // Rebuilt at start-up (no banner in this run) and asked under do-not-disturb.
    let mut attention = Attention::from_open(
        AttentionConfig::default(),
        vec![request("s1", "w1", 1, T0)],
        T0,
    );
    attention.set_do_not_disturb(true, T0);
    attention.handle(asked("s2", 1, T0), T0);
    assert_eq!(attention.badge_count(), 2);
    for (session, number) in [("s1", 1), ("s2", 1)] {
        let effects = attention.handle(resolved(session, number), T0 + SEC);
        assert!(effects.is_empty(), "{effects:?}");
    }
    assert_eq!(attention.badge_count(), 0);
}

#[test]
fn a_reminder_is_withdrawn_when_its_request_is_answered() {
    let mut attention = Attention::from_open(
        AttentionConfig::default(),
        vec![request("s1", "w1", 1, T0)],
        T0,
    );
    assert_eq!(
        kinds(&attention.tick(T0 + 10 * MIN)),
        vec![NotificationKind::PermissionReminder]
    );
    let effects = attention.handle(resolved("s1", 1), T0 + 11 * MIN);
    assert_eq!(withdrawn(&effects), vec!["permission:s1:1"]);
    assert_eq!(attention.next_deadline(), None);
}

#[test]
fn the_end_of_a_turn_or_session_drops_its_requests() {
    for end in [
        ended("s1", StopReason::Cancelled),
        finished("s1"),
        ended("s1", StopReason::Error),
        failed("s1"),
    ] {
        let mut attention = fresh();
        attention.handle(asked("s1", 1, T0), T0);
        attention.handle(asked("s2", 1, T0), T0);
        let effects = attention.handle(end.clone(), T0 + SEC);
        assert_eq!(withdrawn(&effects), vec!["permission:s1:1"], "{end:?}");
        assert_eq!(attention.badge_count(), 1, "{end:?}");
        assert!(attention.queue().get("s2", 1).is_some());
    }
}

#[test]
fn removing_a_workspace_drops_its_requests() {
    let mut attention = fresh();
    attention.handle(asked("s1", 1, T0), T0);
    attention.handle(asked("s3", 1, T0), T0);
    let effects = attention.remove_workspace("w2");
    assert_eq!(withdrawn(&effects), vec!["permission:s3:1"]);
    assert_eq!(attention.badge_count(), 1);
    assert!(
        attention
            .tray(T0)
            .workspaces
            .iter()
            .all(|w| w.workspace_id != "w2")
    );
}

// ----- permission request notifications -----

#[test]
fn a_permission_request_notifies_with_allow_once_and_reject() {
    let mut attention = fresh();
    let effects = attention.handle(asked("s1", 3, T0), T0);
    let n = only(&effects);
    assert_eq!(n.tag, NotificationTag::for_request("s1", 3));
    assert_eq!(n.kind, NotificationKind::PermissionRequest);
    assert_eq!(n.urgency, Urgency::Priority);
    assert_eq!(n.title, "Permission needed · alpha");
    assert_eq!(n.body, "Fix the login bug: Run tests #3");
    let actions: Vec<(&str, &str, OptionKind)> = n
        .actions
        .iter()
        .map(|a| (a.option_id.as_str(), a.label.as_str(), a.kind))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("allow", "Allow", OptionKind::AllowOnce),
            ("reject", "Reject", OptionKind::RejectOnce)
        ]
    );
    assert_eq!(
        n.target,
        Target::Session {
            session_id: "s1".to_owned(),
            seq: Some(30),
            request: Some(3),
        }
    );
}

#[test]
fn a_request_with_only_always_allow_gets_only_a_reject_button() {
    let mut attention = fresh();
    let mut open = request("s1", "w1", 1, T0);
    open.options = vec![
        choice("always", "Always Allow", OptionKind::AllowAlways),
        choice("reject", "Reject", OptionKind::RejectOnce),
    ];
    let effects = attention.handle(Input::PermissionRequested(open), T0);
    let ids: Vec<&str> = only(&effects)
        .actions
        .iter()
        .map(|a| a.option_id.as_str())
        .collect();
    assert_eq!(ids, vec!["reject"]);
}

#[test]
fn unnamed_sessions_and_workspaces_fall_back_to_plain_words() {
    let mut attention = Attention::new(AttentionConfig::default());
    let mut open = request("s1", "w-unknown", 1, T0);
    open.title = " \n ".to_owned();
    let effects = attention.handle(Input::PermissionRequested(open), T0);
    let n = only(&effects);
    assert_eq!(n.title, "Permission needed · w-unknown");
    assert_eq!(n.body, "The agent asks for permission");
    let effects = attention.handle(finished("s2"), T0);
    assert_eq!(
        only(&effects).body,
        "The agent: done, waiting for your next message"
    );
}

// ----- finished and failed -----

#[test]
fn finished_is_deduplicated_per_session_within_60_seconds() {
    // (seconds after the first shown "finished", session, shown?)
    let cases: &[(u64, &str, bool)] = &[
        (0, "s1", true),
        (1, "s1", false),
        (59, "s1", false),
        (60, "s1", true),
        (61, "s1", false),
        (30, "s2", true),
        (121, "s1", true),
    ];
    let mut attention = fresh();
    for &(at, session, expected) in cases {
        let effects = attention.handle(finished(session), T0 + at * SEC);
        assert_eq!(
            kinds(&effects) == vec![NotificationKind::TurnFinished],
            expected,
            "{session} at {at} s: {effects:?}"
        );
    }
}

#[test]
fn the_dedupe_window_counts_only_notifications_shown() {
    let mut attention = fresh();
    attention.set_view(looking_at("s1"));
    assert!(attention.handle(finished("s1"), T0).is_empty());
    attention.set_view(View::default());
    assert_eq!(
        kinds(&attention.handle(finished("s1"), T0 + 10 * SEC)),
        vec![NotificationKind::TurnFinished]
    );
}

#[test]
fn each_stop_reason_has_its_notification() {
    let cases: &[(StopReason, Option<NotificationKind>, &str)] = &[
        (
            StopReason::EndTurn,
            Some(NotificationKind::TurnFinished),
            "Fix the login bug: done, waiting for your next message",
        ),
        (
            StopReason::MaxTokens,
            Some(NotificationKind::TurnFinished),
            "Fix the login bug: stopped: the reply reached the token limit",
        ),
        (
            StopReason::MaxTurnRequests,
            Some(NotificationKind::TurnFinished),
            "Fix the login bug: stopped: the turn took too many steps",
        ),
        (
            StopReason::Refusal,
            Some(NotificationKind::TurnFinished),
            "Fix the login bug: the agent declined",
        ),
        (
            StopReason::Other,
            Some(NotificationKind::TurnFinished),
            "Fix the login bug: stopped",
        ),
        (
            StopReason::Error,
            Some(NotificationKind::TurnFailed),
            "Fix the login bug: the agent reported an error. Open the chat for details.",
        ),
        (StopReason::Cancelled, None, ""),
    ];
    for (reason, kind, body) in cases {
        let mut attention = fresh();
        attention.handle(started("s1"), T0);
        let effects = attention.handle(ended("s1", *reason), T0 + MIN);
        match kind {
            None => assert!(effects.is_empty(), "{reason:?}: {effects:?}"),
            Some(kind) => {
                let n = only(&effects);
                assert_eq!(n.kind, *kind, "{reason:?}");
                assert_eq!(n.urgency, Urgency::Priority);
                assert_eq!(n.body, *body, "{reason:?}");
                assert_eq!(
                    n.target,
                    Target::Session {
                        session_id: "s1".to_owned(),
                        seq: Some(7),
                        request: None
                    }
                );
            }
        }
    }
}

#[test]
fn stop_reasons_and_option_kinds_parse_from_the_wire() {
    let reasons = [
        ("end_turn", StopReason::EndTurn),
        ("cancelled", StopReason::Cancelled),
        ("max_tokens", StopReason::MaxTokens),
        ("max_turn_requests", StopReason::MaxTurnRequests),
        ("refusal", StopReason::Refusal),
        ("error", StopReason::Error),
        ("something_new", StopReason::Other),
    ];
    for (wire, reason) in reasons {
        assert_eq!(StopReason::from_wire(wire), reason);
    }
    let kinds = [
        ("allow_once", OptionKind::AllowOnce),
        ("allow_always", OptionKind::AllowAlways),
        ("reject_once", OptionKind::RejectOnce),
        ("reject_always", OptionKind::RejectAlways),
        ("allow_sometimes", OptionKind::Unknown),
    ];
    for (wire, kind) in kinds {
        assert_eq!(OptionKind::from_wire(wire), kind);
    }
}

#[test]
fn a_failed_turn_then_the_agent_exiting_is_one_failure_notification() {
    let mut attention = fresh();
    let first = attention.handle(ended("s1", StopReason::Error), T0);
    assert_eq!(kinds(&first), vec![NotificationKind::TurnFailed]);
    assert!(attention.handle(failed("s1"), T0 + 2 * SEC).is_empty());
    // Another session's failure is its own.
    assert_eq!(
        kinds(&attention.handle(failed("s2"), T0 + 3 * SEC)),
        vec![NotificationKind::SessionFailed]
    );
    // A minute later it is news again.
    let later = attention.handle(failed("s1"), T0 + 60 * SEC);
    let n = only(&later);
    assert_eq!(n.kind, NotificationKind::SessionFailed);
    assert_eq!(n.title, "Agent stopped · alpha");
    assert_eq!(
        n.body,
        "Fix the login bug: the agent is no longer running. Open the chat to see why."
    );
}

// ----- what the user looks at -----

#[test]
fn no_notification_for_the_chat_the_user_is_looking_at() {
    // (chat on screen, window focused, event's session, notified?)
    let cases: &[(Option<&str>, bool, &str, bool)] = &[
        (Some("s1"), true, "s1", false),
        (Some("s1"), false, "s1", true),
        (Some("s2"), true, "s1", true),
        (None, true, "s1", true),
        (None, false, "s1", true),
    ];
    let events: [fn(&str) -> Input; 3] = [
        |s| asked(s, 1, T0),
        finished,
        |s| ended(s, StopReason::Error),
    ];
    for &(on_screen, focused, session, expected) in cases {
        for event in events {
            let mut attention = fresh();
            attention.set_view(View {
                session_id: on_screen.map(str::to_owned),
                focused,
            });
            let input = event(session);
            let effects = attention.handle(input.clone(), T0);
            assert_eq!(
                !notified(&effects).is_empty(),
                expected,
                "{on_screen:?} focused={focused}: {input:?}"
            );
            // The queue and badge never depend on the view.
            if matches!(input, Input::PermissionRequested(_)) {
                assert_eq!(attention.badge_count(), 1);
            }
        }
    }
}

#[test]
fn looking_at_a_chat_withdraws_its_notifications() {
    let mut attention = fresh();
    attention.handle(asked("s1", 1, T0), T0);
    attention.handle(ended("s2", StopReason::Error), T0);
    attention.handle(asked("s3", 1, T0), T0);
    // Looking without focus changes nothing.
    assert!(
        attention
            .set_view(View {
                session_id: Some("s1".to_owned()),
                focused: false
            })
            .is_empty()
    );
    let effects = attention.set_view(looking_at("s1"));
    assert_eq!(withdrawn(&effects), vec!["permission:s1:1"]);
    // The request itself still waits.
    assert_eq!(attention.badge_count(), 2);
    let effects = attention.set_view(looking_at("s2"));
    assert_eq!(withdrawn(&effects), vec!["failed:s2"]);
    // Nothing left to withdraw a second time.
    assert!(attention.set_view(looking_at("s2")).is_empty());
}

#[test]
fn a_new_turn_withdraws_the_chats_stale_banners() {
    let mut attention = fresh();
    attention.handle(finished("s1"), T0);
    let effects = attention.handle(started("s1"), T0 + MIN);
    assert_eq!(withdrawn(&effects), vec!["finished:s1"]);
    assert!(attention.handle(started("s2"), T0 + MIN).is_empty());
}

#[test]
fn workspace_notifications_ignore_the_view() {
    let mut attention = fresh();
    attention.set_view(looking_at("s1"));
    let effects = attention.handle(
        Input::ProvisioningFailed {
            workspace_id: "w1".to_owned(),
            step: Some("clone\nrepo".to_owned()),
        },
        T0,
    );
    let n = only(&effects);
    assert_eq!(n.kind, NotificationKind::ProvisioningFailed);
    assert_eq!(n.urgency, Urgency::Priority);
    assert_eq!(n.title, "Workspace failed · alpha");
    assert_eq!(
        n.body,
        "Setting up alpha failed at \"clone repo\". Open it to see why."
    );
    assert_eq!(
        n.target,
        Target::Workspace {
            workspace_id: "w1".to_owned()
        }
    );
    let effects = attention.handle(
        Input::DeleteFailed {
            workspace_id: "w2".to_owned(),
        },
        T0,
    );
    let n = only(&effects);
    assert_eq!(n.kind, NotificationKind::DeleteFailed);
    assert_eq!(n.title, "Could not delete beta");
}

// ----- do-not-disturb -----

#[test]
fn do_not_disturb_suppresses_every_notification_but_not_the_queue() {
    let inputs = vec![
        asked("s1", 1, T0),
        finished("s2"),
        ended("s2", StopReason::Error),
        failed("s3"),
        silent("s3"),
        Input::ProvisioningFailed {
            workspace_id: "w2".to_owned(),
            step: None,
        },
        Input::DeleteFailed {
            workspace_id: "w2".to_owned(),
        },
        idle_warning("w1", 5),
        budget("w1", 80),
        Input::DeletedByPolicy {
            workspace_id: "w2".to_owned(),
        },
    ];
    let mut attention = fresh();
    assert!(attention.set_do_not_disturb(true, T0).is_empty());
    assert!(attention.do_not_disturb());
    for input in inputs {
        let effects = attention.handle(input.clone(), T0);
        assert!(notified(&effects).is_empty(), "{input:?}: {effects:?}");
    }
    // Batches, reminders: nothing either, for hours.
    let ticks = tick_through(&mut attention, T0, T0 + 3 * 60 * MIN, MIN);
    assert!(ticks.is_empty(), "{ticks:?}");
    // The badge and the tray still tell.
    assert_eq!(attention.badge_count(), 1);
    assert_eq!(attention.tray(T0).state, Activity::NeedsYou);
}

#[test]
fn do_not_disturb_still_withdraws() {
    let mut attention = fresh();
    attention.handle(asked("s1", 1, T0), T0);
    attention.set_do_not_disturb(true, T0 + SEC);
    let effects = attention.handle(resolved("s1", 1), T0 + 2 * SEC);
    assert_eq!(withdrawn(&effects), vec!["permission:s1:1"]);
}

#[test]
fn turning_do_not_disturb_off_says_what_still_waits() {
    let mut attention = fresh();
    // Off while already off: nothing.
    assert!(attention.set_do_not_disturb(false, T0).is_empty());
    attention.set_do_not_disturb(true, T0);
    // Nothing waits: nothing to say.
    assert!(attention.set_do_not_disturb(false, T0 + SEC).is_empty());

    // One request: it comes back, buttons and all.
    attention.set_do_not_disturb(true, T0);
    attention.handle(asked("s1", 1, T0), T0);
    let effects = attention.set_do_not_disturb(false, T0 + 3 * MIN);
    let n = only(&effects);
    assert_eq!(n.kind, NotificationKind::PermissionReminder);
    assert_eq!(n.tag, NotificationTag::for_request("s1", 1));
    assert_eq!(n.actions.len(), 2);
    assert_eq!(n.body, "Fix the login bug: Run tests #1 (asked 3 min ago)");

    // Several: one summary pointing at the queue, oldest first.
    attention.set_do_not_disturb(true, T0 + 4 * MIN);
    attention.handle(asked("s3", 2, T0 + 4 * MIN), T0 + 4 * MIN);
    let effects = attention.set_do_not_disturb(false, T0 + 5 * MIN);
    let n = only(&effects);
    assert_eq!(n.kind, NotificationKind::StillWaiting);
    assert_eq!(n.urgency, Urgency::Priority);
    assert_eq!(n.title, "2 requests wait for you");
    assert_eq!(n.body, "alpha: Run tests #1\nbeta: Run tests #2");
    assert_eq!(n.target, Target::Queue);
    assert!(n.actions.is_empty());

    // Requests only in the chat on screen: nothing.
    let mut attention = fresh();
    attention.set_view(looking_at("s1"));
    attention.set_do_not_disturb(true, T0);
    attention.handle(asked("s1", 1, T0), T0);
    assert!(attention.set_do_not_disturb(false, T0 + MIN).is_empty());
}

// ----- batching -----

#[test]
fn a_lone_update_is_shown_alone_after_the_batch_window() {
    let mut attention = fresh();
    assert!(attention.handle(budget("w1", 50), T0).is_empty());
    assert_eq!(attention.next_deadline(), Some(T0 + 10 * SEC));
    assert!(attention.tick(T0 + 10 * SEC - 1).is_empty());
    let effects = attention.tick(T0 + 10 * SEC);
    let n = only(&effects);
    assert_eq!(n.kind, NotificationKind::BudgetThreshold);
    assert_eq!(n.urgency, Urgency::Update);
    assert_eq!(n.title, "alpha reached 50% of its budget");
    assert_eq!(n.body, "€4.20 so far.");
    assert_eq!(attention.next_deadline(), None);
    assert!(attention.tick(T0 + 20 * SEC).is_empty());
}

#[test]
fn several_updates_in_the_window_become_one_summary() {
    let mut attention = fresh();
    attention.handle(budget("w1", 50), T0);
    attention.handle(idle_warning("w2", 5), T0 + 2 * SEC);
    attention.handle(silent("s1"), T0 + 9 * SEC);
    // The window runs from the first update; later ones do not extend it.
    assert_eq!(attention.next_deadline(), Some(T0 + 10 * SEC));
    let effects = attention.tick(T0 + 10 * SEC);
    let n = only(&effects);
    assert_eq!(n.kind, NotificationKind::UpdateSummary);
    assert_eq!(n.urgency, Urgency::Update);
    assert_eq!(n.title, "3 updates");
    assert_eq!(
        n.body,
        "alpha reached 50% of its budget\nbeta will be deleted in 5 minutes\nAgent quiet · alpha"
    );
    assert_eq!(n.target, Target::App);
    // An update after the flush opens a new window.
    attention.handle(budget("w1", 80), T0 + 11 * SEC);
    assert_eq!(attention.next_deadline(), Some(T0 + 21 * SEC));
    assert_eq!(
        kinds(&attention.tick(T0 + 21 * SEC)),
        vec![NotificationKind::BudgetThreshold]
    );
}

#[test]
fn a_summary_lists_at_most_five_lines() {
    let mut attention = fresh();
    for percent in [10, 20, 30, 40, 50, 60, 70] {
        attention.handle(budget("w1", percent), T0);
    }
    let effects = attention.tick(T0 + 10 * SEC);
    let n = only(&effects);
    assert_eq!(n.title, "7 updates");
    let lines: Vec<&str> = n.body.lines().collect();
    assert_eq!(lines.len(), 6);
    assert_eq!(lines[0], "alpha reached 10% of its budget");
    assert_eq!(lines[5], "and 2 more");
    // All about one workspace: the summary opens it.
    assert_eq!(
        n.target,
        Target::Workspace {
            workspace_id: "w1".to_owned()
        }
    );
}

#[test]
fn a_held_update_for_the_chat_now_on_screen_is_dropped() {
    let mut attention = fresh();
    attention.handle(silent("s1"), T0);
    attention.handle(budget("w1", 50), T0);
    attention.set_view(looking_at("s1"));
    assert_eq!(
        kinds(&attention.tick(T0 + 10 * SEC)),
        vec![NotificationKind::BudgetThreshold]
    );
    // And one that arrives while it is on screen is never held.
    attention.handle(silent("s1"), T0 + 20 * SEC);
    assert_eq!(attention.next_deadline(), None);
}

#[test]
fn idle_warnings_come_once_per_countdown() {
    let mut attention = fresh();
    // The policy warns every minute of the countdown: 5, 4, 3, 2, 1.
    for (minute, left) in (0..5).zip((1..=5).rev()) {
        attention.handle(idle_warning("w1", left), T0 + minute * MIN);
    }
    let shown = tick_through(&mut attention, T0, T0 + 6 * MIN, SEC);
    assert_eq!(shown.len(), 1, "{shown:?}");
    let Effect::Notify(n) = &shown[0].1 else {
        panic!("{shown:?}")
    };
    assert_eq!(n.title, "alpha will be deleted in 5 minutes");
    assert_eq!(n.kind, NotificationKind::IdleDeletionWarning);
    let mut titles: Vec<String> = Vec::new();
    let mut collect = |attention: &mut Attention, from, to| {
        titles.extend(
            tick_through(attention, from, to, SEC)
                .into_iter()
                .filter_map(|(_, effect)| match effect {
                    Effect::Notify(n) => Some(n.title),
                    Effect::Withdraw(_) => None,
                }),
        );
    };
    // Someone used it, and the countdown restarted: warned again (even soon after).
    attention.handle(idle_warning("w1", 5), T0 + 7 * MIN);
    collect(&mut attention, T0 + 7 * MIN, T0 + 8 * MIN);
    // The next minute's repeat is not.
    attention.handle(idle_warning("w1", 4), T0 + 8 * MIN);
    collect(&mut attention, T0 + 8 * MIN, T0 + 9 * MIN);
    // After the quiet period the countdown's next warning is news too.
    attention.handle(idle_warning("w1", 1), T0 + 30 * MIN);
    collect(&mut attention, T0 + 30 * MIN, T0 + 31 * MIN);
    assert_eq!(
        titles,
        vec![
            "alpha will be deleted in 5 minutes",
            "alpha will be deleted in 1 minute"
        ]
    );
}

#[test]
fn budget_thresholds_are_shown_once_each() {
    let mut attention = fresh();
    attention.handle(budget("w1", 80), T0);
    attention.handle(budget("w1", 80), T0 + SEC);
    attention.handle(budget("w2", 80), T0 + SEC);
    let effects = attention.tick(T0 + 10 * SEC);
    assert_eq!(only(&effects).title, "2 updates");
    attention.handle(budget("w1", 80), T0 + MIN);
    assert!(attention.tick(T0 + 2 * MIN).is_empty());
}

#[test]
fn deletion_by_policy_replaces_the_warning_and_forgets_the_workspace() {
    let mut attention = fresh();
    // A warning shown, and a newer one still held.
    attention.handle(idle_warning("w2", 5), T0);
    attention.tick(T0 + 10 * SEC);
    attention.handle(idle_warning("w2", 5), T0 + 11 * MIN);
    attention.handle(asked("s3", 1, T0), T0 + 11 * MIN);
    attention.handle(started("s3"), T0 + 11 * MIN);
    let effects = attention.handle(
        Input::DeletedByPolicy {
            workspace_id: "w2".to_owned(),
        },
        T0 + 12 * MIN,
    );
    assert_eq!(withdrawn(&effects), vec!["idle:w2", "permission:s3:1"]);
    let effects = attention.tick(T0 + 22 * MIN);
    let n = only(&effects);
    assert_eq!(n.kind, NotificationKind::DeletedByPolicy);
    assert_eq!(n.urgency, Urgency::Update);
    assert_eq!(n.title, "beta was deleted");
    assert_eq!(n.target, Target::App);
    let tray = attention.tray(T0 + 22 * MIN);
    assert_eq!(tray.state, Activity::Idle);
    assert_eq!(tray.badge, 0);
    let names: Vec<&str> = tray.workspaces.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, vec!["alpha"]);
}

// ----- reminders -----

fn reminder_times(config: AttentionConfig, asked_at: u64, until: u64) -> Vec<u64> {
    let mut attention = attention_with(config);
    attention.handle(asked("s1", 1, asked_at), asked_at);
    tick_through(&mut attention, asked_at, until, MIN)
        .into_iter()
        .filter_map(|(at, effect)| match effect {
            Effect::Notify(n) if n.kind == NotificationKind::PermissionReminder => {
                Some((at - asked_at) / MIN)
            }
            _ => None,
        })
        .collect()
}

#[test]
fn reminder_schedule_and_cap() {
    let custom = |first, every, max| AttentionConfig {
        reminder_first_after_ms: first * MIN,
        reminder_every_ms: every * MIN,
        reminder_max: max,
        ..AttentionConfig::default()
    };
    // (config, expected minutes after asking)
    let cases: Vec<(AttentionConfig, Vec<u64>)> = vec![
        (AttentionConfig::default(), vec![10, 40, 70]),
        (custom(5, 5, 2), vec![5, 10]),
        (custom(1, 60, 1), vec![1]),
        (custom(10, 30, 0), vec![]),
        (custom(10, 0, 5), vec![10]),
    ];
    for (config, expected) in cases {
        let label = format!("{config:?}");
        assert_eq!(
            reminder_times(config, T0, T0 + 6 * 60 * MIN),
            expected,
            "{label}"
        );
    }
}

#[test]
fn a_reminder_replaces_its_request_notification() {
    let mut attention = fresh();
    let first = attention.handle(asked("s1", 1, T0), T0);
    assert_eq!(attention.next_deadline(), Some(T0 + 10 * MIN));
    assert!(attention.tick(T0 + 10 * MIN - 1).is_empty());
    let effects = attention.tick(T0 + 10 * MIN);
    let n = only(&effects);
    assert_eq!(n.kind, NotificationKind::PermissionReminder);
    assert_eq!(n.urgency, Urgency::Priority);
    assert_eq!(n.tag, only(&first).tag);
    assert_eq!(n.actions, only(&first).actions);
    assert_eq!(n.target, only(&first).target);
    assert_eq!(n.title, "Still waiting for you · alpha");
    assert_eq!(n.body, "Fix the login bug: Run tests #1 (asked 10 min ago)");
    assert_eq!(attention.next_deadline(), Some(T0 + 40 * MIN));
}

#[test]
fn reminders_skipped_while_looking_or_undisturbed_count_toward_the_cap() {
    let mut attention = fresh();
    attention.handle(asked("s1", 1, T0), T0);
    attention.set_view(looking_at("s1"));
    assert!(attention.tick(T0 + 10 * MIN).is_empty());
    attention.set_view(View::default());
    attention.set_do_not_disturb(true, T0 + 39 * MIN);
    assert!(attention.tick(T0 + 40 * MIN).is_empty());
    attention.set_do_not_disturb(false, T0 + 41 * MIN);
    assert_eq!(
        kinds(&attention.tick(T0 + 70 * MIN)),
        vec![NotificationKind::PermissionReminder]
    );
    assert_eq!(attention.next_deadline(), None);
}

#[test]
fn after_a_sleep_one_reminder_stands_for_all_it_missed() {
    let mut attention = fresh();
    attention.handle(asked("s1", 1, T0), T0);
    // The laptop slept through the 10 and 40 minute reminders.
    assert_eq!(
        kinds(&attention.tick(T0 + 65 * MIN)),
        vec![NotificationKind::PermissionReminder]
    );
    assert_eq!(attention.next_deadline(), Some(T0 + 70 * MIN));
    assert_eq!(attention.tick(T0 + 70 * MIN).len(), 1);
    assert_eq!(attention.next_deadline(), None);
}

#[test]
fn reminders_go_on_after_a_restart_without_repeating() {
    // (minutes since asked at start-up, expected next reminder in minutes since asked)
    let cases = [
        (0, Some(10)),
        (9, Some(10)),
        (10, Some(40)),
        (45, Some(70)),
        (70, None),
        (200, None),
    ];
    for (age, next) in cases {
        let attention = Attention::from_open(
            AttentionConfig::default(),
            vec![request("s1", "w1", 1, T0)],
            T0 + age * MIN,
        );
        assert_eq!(
            attention.next_deadline(),
            next.map(|minutes| T0 + minutes * MIN),
            "asked {age} min before start-up"
        );
    }
}

#[test]
fn several_requests_remind_in_queue_order() {
    let mut attention = fresh();
    attention.handle(asked("s3", 1, T0 + SEC), T0 + SEC);
    attention.handle(asked("s1", 1, T0), T0 + SEC);
    let effects = attention.tick(T0 + 11 * MIN);
    let tags: Vec<&str> = notified(&effects).iter().map(|n| n.tag.as_str()).collect();
    assert_eq!(tags, vec!["permission:s1:1", "permission:s3:1"]);
}

// ----- cleaning -----

#[test]
fn outgoing_text_is_cleaned_and_clipped() {
    let hostile = format!(
        "rm -rf /\n\u{1b}[31mred\u{7}\u{202E}txt.exe\t{}",
        "A".repeat(1000)
    );
    let mut attention = Attention::new(AttentionConfig::default());
    attention.upsert_workspace(WorkspaceInfo {
        workspace_id: "w1".to_owned(),
        name: hostile.clone(),
        cost: Some(hostile.clone()),
    });
    attention.upsert_session(SessionInfo {
        session_id: "s1".to_owned(),
        workspace_id: "w1".to_owned(),
        title: hostile.clone(),
    });
    let mut open = request("s1", "w1", 1, T0);
    open.title = hostile.clone();
    open.options = vec![
        choice("a", &hostile, OptionKind::AllowOnce),
        choice("r", &hostile, OptionKind::RejectOnce),
    ];
    let mut effects = attention.handle(Input::PermissionRequested(open), T0);
    effects.extend(attention.handle(finished("s2"), T0));
    effects.extend(attention.handle(failed("s2"), T0));
    effects.extend(attention.handle(
        Input::ProvisioningFailed {
            workspace_id: "w1".to_owned(),
            step: Some(hostile.clone()),
        },
        T0,
    ));
    effects.extend(attention.handle(
        Input::BudgetThresholdCrossed {
            workspace_id: "w1".to_owned(),
            percent: 90,
            amount: hostile.clone(),
        },
        T0,
    ));
    effects.extend(attention.tick(T0 + 10 * MIN));
    let shown = notified(&effects);
    assert_eq!(shown.len(), 6, "{effects:?}");
    let clean = |text: &str, max: usize| {
        text.chars().count() <= max
            && !text.chars().any(|c| c.is_control() && c != '\n')
            && !text.contains('\u{202E}')
    };
    for n in shown {
        assert!(clean(&n.title, 200), "{:?}", n.title);
        assert!(n.body.lines().all(|line| clean(line, 200)), "{:?}", n.body);
        assert!(clean(&n.body, 200) || n.kind == NotificationKind::UpdateSummary);
        for action in &n.actions {
            assert!(clean(&action.label, 40), "{:?}", action.label);
        }
    }
    let tray = attention.tray(T0);
    for text in tray
        .needs_you
        .iter()
        .flat_map(|n| [&n.label, &n.workspace_name])
        .chain(tray.workspaces.iter().map(|w| &w.name))
        .chain(tray.workspaces.iter().filter_map(|w| w.cost.as_ref()))
    {
        assert!(clean(text, 200), "{text:?}");
        assert!(text.starts_with("rm -rf / [31mred txt.exe AAA"), "{text:?}");
    }
}

// ----- the tray -----

#[test]
fn tray_state_follows_sessions_requests_and_failures() {
    let mut attention = fresh();
    let state = |a: &Attention, now| a.tray(now).state;
    assert_eq!(state(&attention, T0), Activity::Idle);
    attention.handle(started("s1"), T0);
    assert_eq!(state(&attention, T0), Activity::Working);
    attention.handle(asked("s1", 1, T0), T0);
    assert_eq!(state(&attention, T0), Activity::NeedsYou);
    attention.handle(resolved("s1", 1), T0);
    assert_eq!(state(&attention, T0), Activity::Working);
    attention.handle(finished("s1"), T0);
    assert_eq!(state(&attention, T0), Activity::Idle);

    // A failure holds the error state until the user looks at the chat…
    attention.handle(failed("s2"), T0);
    assert_eq!(state(&attention, T0), Activity::Error);
    attention.handle(started("s1"), T0);
    assert_eq!(
        state(&attention, T0),
        Activity::Error,
        "error outranks working"
    );
    attention.handle(asked("s1", 2, T0), T0);
    assert_eq!(
        state(&attention, T0),
        Activity::NeedsYou,
        "needs-you outranks error"
    );
    attention.handle(resolved("s1", 2), T0);
    attention.set_view(looking_at("s2"));
    assert_eq!(state(&attention, T0 + MIN), Activity::Working);

    // …or a new turn starts in it…
    attention.handle(ended("s1", StopReason::Error), T0 + MIN);
    attention.set_view(View::default());
    assert_eq!(state(&attention, T0 + MIN), Activity::Error);
    attention.handle(started("s1"), T0 + 2 * MIN);
    assert_eq!(state(&attention, T0 + 2 * MIN), Activity::Working);

    // …or the hold (30 min) passes, which tick announces through next_deadline.
    attention.handle(finished("s1"), T0 + 3 * MIN);
    attention.handle(
        Input::ProvisioningFailed {
            workspace_id: "w2".to_owned(),
            step: None,
        },
        T0 + 3 * MIN,
    );
    assert_eq!(state(&attention, T0 + 33 * MIN - 1), Activity::Error);
    assert_eq!(attention.next_deadline(), Some(T0 + 33 * MIN));
    attention.tick(T0 + 33 * MIN);
    assert_eq!(state(&attention, T0 + 33 * MIN), Activity::Idle);
    assert_eq!(attention.next_deadline(), None);
}

#[test]
fn a_failure_in_the_chat_on_screen_does_not_hold_the_error_state() {
    let mut attention = fresh();
    attention.set_view(looking_at("s1"));
    attention.handle(failed("s1"), T0);
    assert_eq!(attention.tray(T0).state, Activity::Idle);
}

#[test]
fn tray_lists_needs_first_then_workspaces_by_name() {
    let mut attention = fresh();
    attention.upsert_workspace(WorkspaceInfo {
        workspace_id: "w0".to_owned(),
        name: "Zulu".to_owned(),
        cost: Some("€3.00".to_owned()),
    });
    attention.handle(started("s1"), T0);
    attention.handle(started("s2"), T0);
    attention.handle(asked("s3", 1, T0 + MIN), T0 + MIN);
    // A session in a workspace the shell never named still shows.
    attention.handle(
        Input::TurnStarted {
            session_id: "s9".to_owned(),
            workspace_id: "w9".to_owned(),
        },
        T0,
    );
    let tray = attention.tray(T0 + 3 * MIN);
    assert_eq!(tray.state, Activity::NeedsYou);
    assert_eq!(tray.badge, 1);
    assert_eq!(tray.tooltip, "SAM Desktop: 1 request needs you");
    assert_eq!(tray.needs_you.len(), 1);
    assert_eq!(tray.needs_you[0].label, "Run tests #1");
    assert_eq!(tray.needs_you[0].workspace_name, "beta");
    assert_eq!(tray.needs_you[0].age_ms, 2 * MIN);
    assert_eq!(
        tray.needs_you[0].target,
        Target::Session {
            session_id: "s3".to_owned(),
            seq: Some(10),
            request: Some(1)
        }
    );
    let lines: Vec<(&str, Activity, u32, Option<&str>)> = tray
        .workspaces
        .iter()
        .map(|w| {
            (
                w.name.as_str(),
                w.state,
                w.working_sessions,
                w.cost.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            ("alpha", Activity::Working, 2, Some("€0.42")),
            ("beta", Activity::NeedsYou, 1, None),
            ("w9", Activity::Working, 1, None),
            ("Zulu", Activity::Idle, 0, Some("€3.00")),
        ]
    );
}

#[test]
fn tray_tooltips() {
    let mut attention = fresh();
    assert_eq!(attention.tray(T0).tooltip, "SAM Desktop");
    attention.handle(started("s1"), T0);
    assert_eq!(attention.tray(T0).tooltip, "SAM Desktop: 1 agent working");
    attention.handle(started("s3"), T0);
    assert_eq!(attention.tray(T0).tooltip, "SAM Desktop: 2 agents working");
    attention.handle(asked("s1", 1, T0), T0);
    attention.handle(asked("s3", 1, T0), T0);
    assert_eq!(
        attention.tray(T0).tooltip,
        "SAM Desktop: 2 requests need you"
    );
    attention.handle(failed("s1"), T0);
    attention.handle(failed("s3"), T0);
    assert_eq!(attention.tray(T0).tooltip, "SAM Desktop: something failed");
}

#[test]
fn after_tick_the_next_deadline_is_in_the_future() {
    let mut attention = fresh();
    attention.handle(asked("s1", 1, T0), T0);
    attention.handle(budget("w1", 50), T0);
    attention.handle(failed("s2"), T0);
    let mut now = T0;
    let mut ticks = 0;
    while let Some(deadline) = attention.next_deadline() {
        assert!(deadline > now || ticks == 0, "{deadline} <= {now}");
        now = deadline;
        attention.tick(now);
        ticks += 1;
        assert!(ticks < 20, "tick never settles");
        assert!(attention.next_deadline().is_none_or(|next| next > now));
    }
    // The batch, three reminders, the failure's hold.
    assert_eq!(ticks, 5);
}

#[test]
fn effects_serialize_for_the_webview() {
    let mut attention = fresh();
    let effects = attention.handle(asked("s1", 1, T0), T0);
    let json = serde_json::to_value(&effects[0]).unwrap();
    assert_eq!(json["kind"], "notify");
    assert_eq!(json["value"]["tag"], "permission:s1:1");
    assert_eq!(json["value"]["urgency"], "priority");
    assert_eq!(json["value"]["target"]["kind"], "session");
    assert_eq!(json["value"]["target"]["sessionId"], "s1");
    assert_eq!(json["value"]["actions"][0]["optionId"], "allow");
    assert_eq!(json["value"]["actions"][0]["kind"], "allow_once");
    let effects = attention.handle(resolved("s1", 1), T0);
    let json = serde_json::to_value(&effects[0]).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"kind": "withdraw", "value": "permission:s1:1"})
    );
    let tray = serde_json::to_value(attention.tray(T0)).unwrap();
    assert_eq!(tray["state"], "working");
}
