"""Turn a settings validation error into one clear bilingual message per variable."""

from __future__ import annotations

from pydantic import ValidationError

from bot.settings import CONNECTION_MODE_REQUIRED

# variable -> (how to get it, in Japanese; in English)
_HOW_TO_GET: dict[str, tuple[str, str]] = {
    "SLACK_BOT_TOKEN": (
        "Slack アプリ管理画面の「OAuth & Permissions」にある Bot User OAuth Token（xoxb-…）を設定してください。",
        "Use the Bot User OAuth Token (xoxb-…) from your app's “OAuth & Permissions” page.",
    ),
    "SLACK_SIGNING_SECRET": (
        "HTTP モードでは「Basic Information」の Signing Secret を設定してください"
        "（Socket Mode なら代わりに SLACK_APP_TOKEN）。",
        "For HTTP mode use the Signing Secret from “Basic Information” "
        "(or set SLACK_APP_TOKEN for Socket Mode).",
    ),
    "SLACK_APP_TOKEN": (
        "Socket Mode では「Basic Information」→「App-Level Tokens」で connections:write 付きのトークン（xapp-…）を作成してください。",
        "For Socket Mode create an app-level token (xapp-…) with connections:write under "
        "“Basic Information” → “App-Level Tokens”.",
    ),
    "SLACK_ADMIN_USER_TOKEN": (
        "任意です。ワークスペース管理者のユーザートークン（xoxp-…）を設定するか、変数を削除してください。",
        "Optional: a workspace admin's user token (xoxp-…), or remove the variable.",
    ),
    "SLACK_API_URL": (
        "Slack Web API の URL（通常は https://slack.com/api/）を設定してください。",
        "The Slack Web API base URL (normally https://slack.com/api/).",
    ),
    "SLACK_SCIM_URL": (
        "SCIM API の URL（通常は https://api.slack.com/scim/v2/）を設定してください。",
        "The SCIM API base URL (normally https://api.slack.com/scim/v2/).",
    ),
    "DATABASE_URL": (
        "SQLAlchemy の URL（例: sqlite:///kyoso.db、postgresql+psycopg://user@host/db）を設定してください。",
        "A SQLAlchemy URL, e.g. sqlite:///kyoso.db or postgresql+psycopg://user@host/db.",
    ),
    "PORT": ("1〜65535 のポート番号を設定してください。", "A port number from 1 to 65535."),
    "KYOSO_REVIEW_CHANNEL": (
        "事務局のレビュー用チャンネルの ID（C で始まる英数字）を設定してください。"
        "チャンネル詳細の一番下に表示されます。",
        "The secretariat review channel's ID (C…), shown at the bottom of the channel details.",
    ),
    "KYOSO_DEFAULT_LOCALE": ("ja または en を設定してください。", "Use ja or en."),
    "KYOSO_TIMEZONE": (
        "IANA のタイムゾーン名（例: Asia/Tokyo）を設定してください。",
        "An IANA time zone name such as Asia/Tokyo.",
    ),
    "KYOSO_TRUSTED_PROXIES": (
        "手前のリバースプロキシの段数（例: 1）か、プロキシのアドレス・ネットワークのカンマ区切り"
        "（例: 10.0.0.0/8）を設定してください。プロキシがなければ空にします。",
        "The number of reverse proxies in front (e.g. 1), or their addresses/networks "
        "separated by commas (e.g. 10.0.0.0/8); leave it empty without a proxy.",
    ),
}

_CONNECTION_MODE = CONNECTION_MODE_REQUIRED


def describe_settings_error(error: ValidationError) -> str:
    """One message listing each offending variable, what is wrong, and how to fix it."""
    lines = ["設定エラー / Configuration error"]
    for problem in error.errors():
        variable = str(problem["loc"][0]) if problem["loc"] else ""
        message = str(problem.get("msg", ""))
        if not variable and _CONNECTION_MODE in message:
            variable = "SLACK_SIGNING_SECRET"
            what_ja, what_en = (
                "SLACK_APP_TOKEN と SLACK_SIGNING_SECRET のどちらも設定されていません。",
                "neither SLACK_APP_TOKEN nor SLACK_SIGNING_SECRET is set.",
            )
        elif problem["type"] == "missing":
            what_ja, what_en = f"{variable} が設定されていません。", f"{variable} is not set."
        else:
            reason = message.removeprefix("Value error, ")
            what_ja = f"{variable} の値が正しくありません（{reason}）。"
            what_en = f"{variable} is malformed ({reason})."
        how_ja, how_en = _HOW_TO_GET.get(variable, ("", ""))
        lines.append(f"- {what_ja}{how_ja}")
        lines.append(f"  {what_en} {how_en}".rstrip())
    lines.append(
        ".env.example に全ての変数の説明があります。 / .env.example explains every variable."
    )
    return "\n".join(lines)
