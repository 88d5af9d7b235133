"""Light and dark themes: the palettes, the colours that carry meaning, and following the system's choice.

Every colour that carries meaning (activated mode, resilient channel, warning, error, offline)
always comes with a word and a symbol too (UI.md: never colour alone). Each text colour is
chosen to reach WCAG AA (4.5:1) on the background it is drawn on; tests/ui/test_theme.py checks
every pair below in both themes. The Fusion style draws the same on every system, so the
palette decides what a person sees.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QGuiApplication, QPalette

from desktop.i18n import NP_, label


@dataclass(frozen=True)
class Theme:
    name: str
    window: str
    base: str
    alternate: str
    text: str
    muted: str  # secondary text (labels, notes) on base and window
    button: str
    highlight: str
    highlight_text: str
    link: str
    activated_bg: str
    activated_text: str
    ordinary_bg: str
    ordinary_text: str
    exercise_bg: str  # an exercise (övning): never mistaken for the real thing
    exercise_text: str
    resilient: str  # text on base
    warning: str  # text on base
    error: str  # text on base
    ok: str  # text on window (status bar)
    border: str

    def qcolor(self, name: str) -> QColor:
        return QColor(getattr(self, name))

    def text_pairs(self) -> list[tuple[str, str, str]]:
        """(what, text colour, background colour) for every text the window draws."""
        return [
            ("text on base", self.text, self.base),
            ("text on window", self.text, self.window),
            ("text on alternate rows", self.text, self.alternate),
            ("text on buttons", self.text, self.button),
            ("muted on base", self.muted, self.base),
            ("muted on window", self.muted, self.window),
            ("muted on alternate rows", self.muted, self.alternate),
            ("selected text", self.highlight_text, self.highlight),
            ("link on base", self.link, self.base),
            ("activated badge", self.activated_text, self.activated_bg),
            ("ordinary badge", self.ordinary_text, self.ordinary_bg),
            ("exercise badge", self.exercise_text, self.exercise_bg),
            ("resilient on base", self.resilient, self.base),
            ("resilient on alternate rows", self.resilient, self.alternate),
            ("warning on base", self.warning, self.base),
            ("warning on window", self.warning, self.window),
            ("error on window", self.error, self.window),
            ("error on base", self.error, self.base),
            ("ok on window", self.ok, self.window),
        ]


LIGHT = Theme(
    name="light",
    window="#eef0f3",
    base="#ffffff",
    alternate="#f3f5f8",
    text="#16191d",
    muted="#4d545d",
    button="#e2e6eb",
    highlight="#1f5bb5",
    highlight_text="#ffffff",
    link="#1a56ad",
    activated_bg="#b3261e",
    activated_text="#ffffff",
    ordinary_bg="#dfe5ec",
    ordinary_text="#16191d",
    exercise_bg="#5b3a99",
    exercise_text="#ffffff",
    resilient="#17663a",
    warning="#8a4700",
    error="#b3261e",
    ok="#17663a",
    border="#c3c9d1",
)

DARK = Theme(
    name="dark",
    window="#1c1f24",
    base="#131518",
    alternate="#1b1e22",
    text="#e9ebee",
    muted="#adb4bd",
    button="#2b3037",
    highlight="#2f66c4",
    highlight_text="#ffffff",
    link="#8ab8ff",
    activated_bg="#c62f25",
    activated_text="#ffffff",
    ordinary_bg="#323841",
    ordinary_text="#e9ebee",
    exercise_bg="#6d48b5",
    exercise_text="#ffffff",
    resilient="#7bd69b",
    warning="#f0b45b",
    error="#ff8f85",
    ok="#7bd69b",
    border="#3a4049",
)

THEMES = {"light": LIGHT, "dark": DARK}

THEME_LABELS = {
    "system": NP_("theme", "Follow the system"),
    "light": NP_("theme", "Light"),
    "dark": NP_("theme", "Dark"),
}


def theme_label(name: str) -> str:
    return label(THEME_LABELS.get(name), name)


# --- contrast (WCAG 2.x) -------------------------------------------------------------------


def _channel(value: float) -> float:
    value /= 255.0
    return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    c = QColor(colour)
    return 0.2126 * _channel(c.red()) + 0.7152 * _channel(c.green()) + 0.0722 * _channel(c.blue())


def contrast_ratio(foreground: str, background: str) -> float:
    a, b = relative_luminance(foreground), relative_luminance(background)
    lighter, darker = max(a, b), min(a, b)
    return (lighter + 0.05) / (darker + 0.05)


# --- applying -----------------------------------------------------------------------------


def system_prefers_dark() -> bool:
    hints = QGuiApplication.styleHints()
    scheme = getattr(hints, "colorScheme", None)
    return scheme is not None and scheme() == Qt.ColorScheme.Dark


def resolve(choice: str) -> Theme:
    """``system`` follows the operating system (Qt 6.5+); otherwise the chosen theme."""
    if choice in THEMES:
        return THEMES[choice]
    return DARK if system_prefers_dark() else LIGHT


def palette_for(theme: Theme) -> QPalette:
    p = QPalette()
    c = theme.qcolor
    roles = {
        QPalette.ColorRole.Window: c("window"),
        QPalette.ColorRole.WindowText: c("text"),
        QPalette.ColorRole.Base: c("base"),
        QPalette.ColorRole.AlternateBase: c("alternate"),
        QPalette.ColorRole.Text: c("text"),
        QPalette.ColorRole.PlaceholderText: c("muted"),
        QPalette.ColorRole.Button: c("button"),
        QPalette.ColorRole.ButtonText: c("text"),
        QPalette.ColorRole.BrightText: c("error"),
        QPalette.ColorRole.Highlight: c("highlight"),
        QPalette.ColorRole.HighlightedText: c("highlight_text"),
        QPalette.ColorRole.Link: c("link"),
        QPalette.ColorRole.LinkVisited: c("link"),
        QPalette.ColorRole.ToolTipBase: c("base"),
        QPalette.ColorRole.ToolTipText: c("text"),
        QPalette.ColorRole.Mid: c("border"),
        QPalette.ColorRole.Midlight: c("button"),
        QPalette.ColorRole.Dark: c("border"),
    }
    for role, colour in roles.items():
        p.setColor(QPalette.ColorGroup.All, role, colour)
    # Disabled text stays readable (3:1 is the floor for inactive controls; muted reaches more).
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, c("muted"))
    return p


def apply(app, theme: Theme) -> None:
    app.setStyle("Fusion")
    app.setPalette(palette_for(theme))
    app.setProperty("samverkaTheme", theme.name)


def current(app) -> Theme:
    return THEMES.get(app.property("samverkaTheme") or "", LIGHT)


def paint_row_background(painter, option) -> tuple[QColor, QColor]:
    """For a delegate: the view's own row background (selection, hover, alternate), and the
    (text, muted) colours to draw on it — both the selected text colour on a selected row."""
    from PySide6.QtWidgets import QApplication, QStyle

    style = option.widget.style() if option.widget else QApplication.style()
    style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, option.widget)
    if option.state & QStyle.StateFlag.State_Selected:
        selected = option.palette.color(QPalette.ColorRole.HighlightedText)
        return selected, selected
    return option.palette.color(QPalette.ColorRole.Text), current(QApplication.instance()).qcolor("muted")


def number_font(base: QFont, scale: float = 1.55) -> QFont:
    """Numbers are the payload: larger, with tabular (same-width) digits so they line up."""
    font = QFont(base)
    size = base.pointSizeF() if base.pointSizeF() > 0 else 10.0
    font.setPointSizeF(size * scale)
    font.setWeight(QFont.Weight.DemiBold)
    tag = getattr(QFont, "Tag", None)
    if tag is not None and hasattr(font, "setFeature"):
        font.setFeature(tag("tnum"), 1)
    return font


def monospace_font(base: QFont, scale: float = 1.3) -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    size = base.pointSizeF() if base.pointSizeF() > 0 else 10.0
    font.setPointSizeF(size * scale)
    return font
