//! PowerAutomate / Microsoft 365 deliveries: every payload shape a flow sends, read
//! into one [`event::NormalizedEvent`] ([`normalize`]), and the deterministic
//! VCALENDAR written for it ([`ical`]). The per-delivery plan in the crate root
//! decides what a delivery does.

pub mod event;
pub(crate) mod html;
pub mod ical;
pub(crate) mod normalize;
pub(crate) mod payload;
pub(crate) mod when;
