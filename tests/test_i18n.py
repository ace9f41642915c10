import string

from bot.i18n import LANGUAGES, as_language, catalogue, t


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_catalogues_have_the_same_keys_and_placeholders() -> None:
    ja, en = catalogue("ja"), catalogue("en")
    assert set(ja) == set(en)
    for key in ja:
        assert _placeholders(ja[key]) == _placeholders(en[key]), key


def test_no_empty_text_and_japanese_is_japanese() -> None:
    for language in LANGUAGES:
        assert all(value.strip() for value in catalogue(language).values())
    assert "使い方" in t("help.title", "ja")
    assert t("help.title", "en") == "How to use Kyoso"


def test_slack_locales_map_to_catalogues() -> None:
    assert as_language("ja-JP", "en") == "ja"
    assert as_language("en-US", "ja") == "en"
    assert as_language("en_GB", "ja") == "en"
    assert as_language("fr-FR", "ja") == "ja"
    assert as_language(None, "en") == "en"


def test_each_feature_file_has_its_twin() -> None:
    from importlib import resources

    folder = resources.files("bot.i18n")
    names = {
        language: {e.name for e in folder.joinpath(language).iterdir() if e.name.endswith(".json")}
        for language in LANGUAGES
    }
    assert names["ja"] == names["en"]
