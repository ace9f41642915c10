"""The job registry. Jobs are plain functions of a context that return what they did."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient

from bot.clock import Clock
from bot.db import SessionFactory
from bot.gateway import SlackGateway, build_gateway
from bot.inbox import store as inbox_store
from bot.services.events import prune_processed_events, prune_seen_requests
from bot.services.mail.delivery import deliver_pending
from bot.services.mail.port import MailSender
from bot.services.mail.prune import prune_outbox
from bot.settings import Settings
from bot.slack.channels import ChannelsSlack
from scheduler import (
    ambassador_appointment_jobs,
    ambassador_greeting_jobs,
    application_jobs,
    channel_jobs,
    knowledge_jobs,
    lifecycle_jobs,
    moderation_jobs,
    onboarding_jobs,
    secretariat_announcements_jobs,
    transfers_checks_jobs,
    transfers_leavers_jobs,
    transfers_moves_jobs,
    transfers_season_jobs,
)


@dataclass(frozen=True)
class JobContext:
    session_factory: SessionFactory
    clock: Clock
    # Only the deliver-emails job needs it; None where no settings were loaded (skips it).
    mail_sender: MailSender | None = None
    # Jobs that talk to Slack (onboarding) need the bot's client and the settings; they skip
    # themselves where these are None.
    client: WebClient | None = None
    settings: Settings | None = None
    # The Slack adapters built once by the composition root (None where client is None).
    gateway: SlackGateway | None = None

    @classmethod
    def with_slack(
        cls,
        *,
        session_factory: SessionFactory,
        clock: Clock,
        client: WebClient,
        settings: Settings,
        admin_client: WebClient | None = None,
        mail_sender: MailSender | None = None,
    ) -> JobContext:
        """A context whose jobs talk to Slack, its gateway built here once."""
        return cls(
            session_factory=session_factory,
            clock=clock,
            mail_sender=mail_sender,
            client=client,
            settings=settings,
            gateway=build_gateway(
                settings,
                client=client,
                admin_client=admin_client,
                session_factory=session_factory,
                clock=clock,
            ),
        )


JobResult = dict[str, Any]


def bilingual(japanese: str, english: str) -> str:
    """What `kyoso jobs list` shows: Japanese first, then English."""
    return f"{japanese} / {english}"


@dataclass(frozen=True)
class JobSpec:
    id: str
    description: str
    # APScheduler CronTrigger fields, interpreted in the configured time zone (JST).
    cron: dict[str, str]
    run: Callable[[JobContext], JobResult]


def _prune_processed_events(ctx: JobContext) -> JobResult:
    with ctx.session_factory.begin() as session:
        return {
            "deleted": prune_processed_events(session, clock=ctx.clock),
            "inbox_deleted": inbox_store.prune(session, clock=ctx.clock),
            "request_keys_deleted": prune_seen_requests(session, clock=ctx.clock),
        }


def _prune_outbox(ctx: JobContext) -> JobResult:
    with ctx.session_factory.begin() as session:
        return {"deleted": prune_outbox(session, clock=ctx.clock)}


def _deliver_emails(ctx: JobContext) -> JobResult:
    if ctx.mail_sender is None:
        return {"skipped": "no mail sender in this context"}
    return dict(deliver_pending(ctx.session_factory, ctx.mail_sender, clock=ctx.clock))


NO_SLACK = {"skipped": "no Slack client in this context"}


def _imported_when_run(module: str, name: str) -> Callable[..., Mapping[str, Any]]:
    """For jobs whose module is heavy to import (the weekly report loads matplotlib)."""

    def run(**kwargs: Any) -> Mapping[str, Any]:
        target: Callable[..., Mapping[str, Any]] = getattr(importlib.import_module(module), name)
        return target(**kwargs)

    return run


def _weekly_report(ctx: JobContext) -> JobResult:
    if ctx.gateway is None or ctx.settings is None:
        return dict(NO_SLACK)
    run = _imported_when_run("scheduler.report_jobs", "weekly_report")
    return dict(
        run(
            session_factory=ctx.session_factory,
            clock=ctx.clock,
            settings=ctx.settings,
            slack=ctx.gateway.dashboard,
        )
    )


def _onboarding_dms(send: Callable[..., JobResult]) -> Callable[[JobContext], JobResult]:
    def run(ctx: JobContext) -> JobResult:
        if ctx.gateway is None:
            return dict(NO_SLACK)
        messenger = ctx.gateway.onboarding.dms.messenger()  # paced and counted per run
        return send(session_factory=ctx.session_factory, clock=ctx.clock, messenger=messenger)

    return run


def _onboarding_welcomes(ctx: JobContext) -> JobResult:
    if ctx.gateway is None:
        return dict(NO_SLACK)
    return ctx.gateway.onboarding.welcome.run()


def _onboarding_stuck_report(ctx: JobContext) -> JobResult:
    if ctx.gateway is None or ctx.settings is None:
        return dict(NO_SLACK)
    return onboarding_jobs.report_stuck(
        session_factory=ctx.session_factory,
        clock=ctx.clock,
        zone=ctx.settings.zone,
        notices=ctx.gateway.onboarding.notices,
    )


def _channels(run: Callable[[ChannelsSlack], JobResult]) -> Callable[[JobContext], JobResult]:
    def job(ctx: JobContext) -> JobResult:
        if ctx.gateway is None:
            return dict(NO_SLACK)
        return run(ctx.gateway.channels)

    return job


JOBS: tuple[JobSpec, ...] = (
    JobSpec(
        id="prune-processed-events",
        description=bilingual(
            "処理済みのイベント ID と受信箱を 7 日後、再送防止キーを 1 日後に削除",
            "Forget Slack event ids and done inbox events after 7 days, replay keys after a day",
        ),
        cron={"hour": "3", "minute": "30"},
        run=_prune_processed_events,
    ),
    JobSpec(
        id="prune-outbox",
        description=bilingual(
            "送信済み・失敗したメールを 30 日後に削除（個人情報を含むため）",
            "Delete sent or failed emails after 30 days (they hold personal data)",
        ),
        cron={"hour": "3", "minute": "45"},
        run=_prune_outbox,
    ),
    JobSpec(
        id="deliver-emails",
        description=bilingual(
            "メール送信待ちを送る（各プロセスのメール送信の予備）",
            "Send the email outbox (a safety net: each process's mail worker sends at once)",
        ),
        cron={"minute": "*/5"},
        run=_deliver_emails,
    ),
    JobSpec(
        id="applications-remind-pending",
        description=bilingual(
            "2 営業日を超えて待っている参加申請を事務局に知らせる",
            "Remind the secretariat of applications waiting over 2 business days",
        ),
        cron={"day_of_week": "mon-fri", "hour": "9", "minute": "15"},
        run=application_jobs.remind_pending,
    ),
    JobSpec(
        id="applications-post-unposted",
        description=bilingual(
            "レビューチャンネルに届かなかった参加申請を投稿",
            "Post applications that never reached the review channel",
        ),
        cron={"minute": "*/10"},
        run=application_jobs.post_unposted,
    ),
    JobSpec(
        id="applications-invites",
        description=bilingual(
            "承認時に招待できなかった申請者を招待し、結果に応じて承認メールを送る",
            "Invite approved applicants Slack could not invite at approval (busy, down); the approval email follows the outcome",
        ),
        cron={"minute": "*/10"},
        run=application_jobs.invite_approved,
    ),
    JobSpec(
        id="onboarding-welcomes",
        description=bilingual(
            "参加時に届かなかったウェルカム DM を一度だけ送る",
            "Welcome DMs Slack did not take when members joined (busy, down, token refused), exactly once",
        ),
        cron={"minute": "*/5"},
        run=_onboarding_welcomes,
    ),
    JobSpec(
        id="onboarding-rules-ask-again",
        description=bilingual(
            "旧版の利用規約に同意したメンバーに最新版への同意をお願いする",
            "Ask members who accepted older usage rules to accept the current version",
        ),
        cron={"day_of_week": "mon-fri", "hour": "9-17", "minute": "*/5"},
        run=_onboarding_dms(onboarding_jobs.ask_again),
    ),
    JobSpec(
        id="onboarding-intro-reminders",
        description=bilingual(
            "参加 1 週間後に自己紹介のリマインドを一度送る",
            "One reminder to introduce themselves, a week after joining",
        ),
        cron={"day_of_week": "mon-fri", "hour": "10", "minute": "0"},
        run=_onboarding_dms(onboarding_jobs.remind_introductions),
    ),
    JobSpec(
        id="onboarding-profile-nudges",
        description=bilingual(
            "写真がない・組織名のプロフィールの新メンバーに一度お知らせ",
            "One nudge to newcomers without a photo or with an organisation's name",
        ),
        cron={"day_of_week": "mon-fri", "hour": "11", "minute": "0"},
        run=_onboarding_dms(onboarding_jobs.nudge_profiles),
    ),
    JobSpec(
        id="onboarding-stuck-report",
        description=bilingual(
            "3 営業日たっても規約に同意していないメンバーを一覧で報告",
            "List members who have not accepted the rules after 3 business days",
        ),
        cron={"day_of_week": "mon-fri", "hour": "9", "minute": "30"},
        run=_onboarding_stuck_report,
    ),
    JobSpec(
        id="moderation-edit-follow-ups",
        description=bilingual(
            "投稿者の修正期限が過ぎたら事務局に知らせる（依頼ごとに一度）",
            "Tell the secretariat when an author's edit deadline passes (once per request)",
        ),
        cron={"minute": "*/15"},
        run=moderation_jobs.follow_up_edit_requests,
    ),
    JobSpec(
        id="moderation-post-unposted",
        description=bilingual(
            "レビューチャンネルに届かなかったモデレーション案件を投稿",
            "Post moderation cases that never reached the review channel",
        ),
        cron={"minute": "*/10"},
        run=moderation_jobs.post_unposted,
    ),
    JobSpec(
        id="weekly-report",
        description=bilingual(
            "週次の数値とグラフをレビューチャンネルへ（月曜 9:00、投稿できるまで毎時再試行）",
            "Weekly figures and charts to the review channel (Monday 9:00; retried hourly until posted)",
        ),
        cron={"day_of_week": "mon", "hour": "9-17", "minute": "0"},
        run=_weekly_report,
    ),
    JobSpec(
        id="channels-sync",
        description=bilingual(
            "すべての公開チャンネルを台帳に反映（conversations.list、Tier 2 の速さで）",
            "Bring every public channel into the registry (conversations.list, paced for Tier 2)",
        ),
        cron={"hour": "4", "minute": "15"},
        run=_channels(channel_jobs.sync_registry),
    ),
    JobSpec(
        id="knowledge-channel-cards",
        description=bilingual(
            "有効なチャンネルごとの検索用カードを台帳に合わせる（アーカイブ・記録しない設定のものは削除）",
            "Keep a searchable card per active channel in line with the registry (archived or opted-out channels' cards removed)",
        ),
        cron={"hour": "4", "minute": "45"},
        run=knowledge_jobs.channel_cards,
    ),
    JobSpec(
        id="knowledge-embed",
        description=bilingual(
            "新しい・更新されたナレッジの意味ベクトルを作成（KYOSO_EMBEDDING_MODEL_DIR があるときだけ）",
            "Meaning vectors for new and changed knowledge entries (only with KYOSO_EMBEDDING_MODEL_DIR)",
        ),
        cron={"minute": "*/10"},
        run=knowledge_jobs.embed_new_entries,
    ),
    JobSpec(
        id="channels-dormancy",
        description=bilingual(
            "KYOSO_DORMANT_DAYS 静かなチャンネルや終了日を過ぎたチャンネルを確認し、一度リマインド、アーカイブ候補に",
            "Ask about channels quiet for KYOSO_DORMANT_DAYS or past their end date; remind once; list for archiving",
        ),
        cron={"day_of_week": "mon", "hour": "10", "minute": "30"},
        run=_channels(channel_jobs.dormancy_round),
    ),
    JobSpec(
        id="channels-catch-up",
        description=bilingual(
            "未投稿のチャンネル申請を投稿し、一時的なエラーで止まった作成を仕上げる",
            "Post unposted channel requests; finish provisioning stopped by a passing error",
        ),
        cron={"minute": "*/15"},
        run=_channels(channel_jobs.catch_up_requests),
    ),
    JobSpec(
        id="inactivity-sweep",
        description=bilingual(
            "KYOSO_INACTIVE_DAYS 非アクティブなメンバーへの連絡を始め、回答済みを終え、未回答を削除候補に",
            "Start contact rounds for members inactive KYOSO_INACTIVE_DAYS; end answered ones; flag the unanswered (set-based)",
        ),
        cron={"hour": "8", "minute": "30"},
        run=lifecycle_jobs.sweep,
    ),
    JobSpec(
        id="lifecycle-contacts",
        description=bilingual(
            "非アクティブ確認の DM とメールを送る（業務時間内、おやすみモード外、ペース制限あり）",
            "Send due inactivity DMs and emails: business hours, not in do-not-disturb, paced (KYOSO_CONTACTS_PER_MINUTE)",
        ),
        cron={"day_of_week": "mon-fri", "hour": "9-16", "minute": "5"},
        run=lifecycle_jobs.send_contacts,
    ),
    JobSpec(
        id="lifecycle-users-sync",
        description=bilingual(
            "users.list（Tier 2 の速さ）：取りこぼしたメンバー、プロフィール変更、Slack で無効化されたアカウント",
            "users.list (Tier 2 pace): members Kyoso missed, profile changes, accounts deactivated in Slack",
        ),
        cron={"hour": "5", "minute": "0"},
        run=lifecycle_jobs.sync_users,
    ),
    JobSpec(
        id="lifecycle-access-logs",
        description=bilingual(
            "team.accessLogs から最終ログインを取得（有料プランと管理者トークンが必要、なければ静かにスキップ）",
            "Last logins from team.accessLogs (paid plans, admin token; skipped quietly otherwise)",
        ),
        cron={"hour": "5", "minute": "30"},
        run=lifecycle_jobs.import_logins,
    ),
    JobSpec(
        id="lifecycle-weekly-summary",
        description=bilingual(
            "削除候補のアカウントを承認・復元ボタン付きでレビューチャンネルへ",
            "Flagged accounts with approve and restore buttons in the review channel",
        ),
        cron={"day_of_week": "mon", "hour": "9", "minute": "45"},
        run=lifecycle_jobs.weekly_summary,
    ),
    JobSpec(
        id="lifecycle-retention",
        description=bilingual(
            "無効化されたメンバーの個人情報を KYOSO_RETENTION_DAYS 後に縮小",
            "Reduce deactivated members' personal data after KYOSO_RETENTION_DAYS",
        ),
        cron={"hour": "3", "minute": "50"},
        run=lifecycle_jobs.retention,
    ),
    # Transfers: affiliation checks
    JobSpec(
        id="transfers-checks-catch-up",
        description=bilingual(
            "レビューチャンネルに届いていない「所属確認が必要」を投稿する",
            "Post affiliation checks whose card never reached the review channel",
        ),
        cron={"minute": "*/15"},
        run=transfers_checks_jobs.post_unposted_checks,
    ),
    # Transfers: moves
    JobSpec(
        id="transfers-slack-email",
        description=bilingual(
            "所属変更から14日経っても Slack のメールアドレスが新しいものになっていない会員を、事務局への依頼（1件ずつ1回）に",
            "Members whose Slack address still is not the new one 14 days after a confirmed move: one to-do each for the secretariat",
        ),
        cron={"hour": "10", "minute": "15"},
        run=transfers_moves_jobs.slack_emails,
    ),
    JobSpec(
        id="transfers-moves-expire",
        description=bilingual(
            "確認リンクとコードの有効期限（72時間）が切れた所属変更を期限切れに",
            "Moves whose confirmation link and code expired (72 hours): marked expired",
        ),
        cron={"hour": "3", "minute": "40"},
        run=transfers_moves_jobs.expire_moves,
    ),
    JobSpec(
        id="transfers-moves-apply",
        description=bilingual(
            "反映日を迎えた予約済みの所属変更を反映し、本人に知らせる（Slack のアドレスは SCIM で変更、または手順を案内）",
            "Scheduled moves whose effective date has come: applied, and each member told (Slack address through SCIM, or the instructions)",
        ),
        cron={"minute": "5"},
        run=transfers_moves_jobs.apply_scheduled,
    ),
    # Transfers: the 異動 season
    JobSpec(
        id="transfers-season",
        description=bilingual(
            "異動シーズン：3月中旬に所属変更の有無を全員に DM で確認、4月以降は未完了の異動者にリマインド（業務時間内、おやすみモード外、ペース制限あり）",
            "The 異動 season: a DM asking every member about April's changes (mid-March), then reminders to unconfirmed movers (business hours, not in do-not-disturb, paced)",
        ),
        cron={"day_of_week": "mon-fri", "hour": "9-16", "minute": "35"},
        run=transfers_season_jobs.run_season,
    ),
    # Transfers: leavers
    JobSpec(
        id="transfers-departures",
        description=bilingual(
            "最終日の 17:30 を過ぎた退職・離任者の引継ぎ、お別れの DM、アカウント停止（権限がなければ事務局への依頼）",
            "Leavers whose last day ended (17:30): hand-over, goodbye DM, deactivation (or a to-do for the secretariat)",
        ),
        cron={"minute": "0,30"},
        run=transfers_leavers_jobs.departures,
    ),
    # Ambassadors: appointments
    JobSpec(
        id="ambassadors-appointments",
        description=bilingual(
            "アンバサダーの任期：終了日を過ぎた任命を終了して役割を外し、開始日を迎えた任命に役割を付け、終了の1か月前にレビューチャンネルへ1回お知らせ",
            "Ambassadors' terms: end those past their end date (role revoked), grant the role to those that began, remind the review channel once a month before a term ends",
        ),
        cron={"hour": "9", "minute": "10"},
        run=ambassador_appointment_jobs.appointments_daily,
    ),
    # Ambassadors: greetings
    JobSpec(
        id="ambassadors-greetings",
        description=bilingual(
            "新メンバーのあいさつカード：未投稿のカードを投稿、紹介 DM の再送、退会者のカードを閉じる。開庁日の業務時間には、2開庁日担当のないカードを1回リマインドし、さらに2開庁日後に事務局へ知らせる",
            "Greeting cards: post cards Slack missed, resend owed introductions, close the cards of newcomers who left; on 開庁日 in office hours, remind unclaimed cards once after 2 開庁日 and tell the secretariat 2 開庁日 later",
        ),
        cron={"minute": "20"},
        run=ambassador_greeting_jobs.greetings,
    ),
    # Secretariat toolkit: announcements
    JobSpec(
        id="secretariat-announcements",
        description=bilingual(
            "事務局のお知らせを DM で送る（開庁日の業務時間内、おやすみモード外、ペース制限あり）とレビューチャンネルの進捗を更新",
            "Send the secretariat's announcements by DM (business hours on 開庁日, not in do-not-disturb, paced) and update their progress in the review channel",
        ),
        cron={"day_of_week": "mon-fri", "hour": "9-16", "minute": "*/10"},
        run=secretariat_announcements_jobs.send_announcements,
    ),
)


class UnknownJob(LookupError):
    pass


def find_job(job_id: str) -> JobSpec:
    for job in JOBS:
        if job.id == job_id:
            return job
    raise UnknownJob(job_id)
