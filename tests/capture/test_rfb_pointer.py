"""RFB button masks as presses, releases and wheel notches."""

from supportdesk.capture.rfb_pointer import (
    Button,
    ButtonChange,
    WheelNotch,
    held_buttons,
    mask_changes,
)


def test_a_click_is_a_press_then_a_release() -> None:
    assert mask_changes(0, 0b1) == [ButtonChange(Button.LEFT, True)]
    assert mask_changes(0b1, 0) == [ButtonChange(Button.LEFT, False)]


def test_changes_come_in_bit_order_and_unchanged_buttons_are_silent() -> None:
    assert mask_changes(0b001, 0b110) == [
        ButtonChange(Button.LEFT, False),
        ButtonChange(Button.MIDDLE, True),
        ButtonChange(Button.RIGHT, True),
    ]
    assert mask_changes(0b101, 0b101) == []


def test_a_wheel_notch_counts_when_its_bit_is_set_not_when_released() -> None:
    assert mask_changes(0, 1 << 3) == [WheelNotch(0, 1)]
    assert mask_changes(1 << 3, 0) == []
    assert mask_changes(0, 1 << 4) == [WheelNotch(0, -1)]
    assert mask_changes(0, 1 << 5) == [WheelNotch(-1, 0)]
    assert mask_changes(0, 1 << 6) == [WheelNotch(1, 0)]


def test_scrolling_while_dragging_keeps_the_button() -> None:
    assert mask_changes(0b1, 0b1 | 1 << 4) == [WheelNotch(0, -1)]


def test_back_button_and_bits_beyond_the_mask() -> None:
    assert mask_changes(0, 1 << 7) == [ButtonChange(Button.BACK, True)]
    assert mask_changes(0, 1 << 8) == []
    assert held_buttons(0b1111_1101) == [Button.LEFT, Button.RIGHT, Button.BACK]
