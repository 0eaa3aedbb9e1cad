//! The instances of one component and their times (RFC 5545 §3.8.5, RFC 4791 §9.9):
//! RRULE, RDATE and EXDATE expanded under hard limits, overrides put in place, and
//! the span of each instance.
//!
//! - [`shape`]: how a component's instances are timed, and [`shape::Env`], how an
//!   object's times are read; [`overlap`]: the span of one instance and the §9.9
//!   overlap test.
//! - [`rule`] (RRULE values) and [`dates`] (RDATE, EXDATE): the parts of a set.
//! - [`expand`]: a whole set, bounded, for the index span; [`walk`]: the starts inside
//!   a window, ascending, for queries, with [`simple_rule`] stepping the common DAILY
//!   and WEEKLY rules without the `rrule` crate ([`frames`] holds what both share).
//! - [`instance`]: the instances of an object, masters expanded and overrides in
//!   place; [`trigger`]: how far its alarms reach from an instance, so a walk looks
//!   far enough.
//!
//! It does not decide what a query matches or returns ([`crate::query`]) nor what the
//! store keeps ([`crate::index`]): both are built on it.
//!
//! Instances are computed in the *frame* of the DTSTART: its IANA zone, or, for UTC,
//! fixed-offset, floating and DATE starts, a UTC clock showing the wall-clock time
//! (a fixed offset has no daylight saving, so shifting afterwards is exact).
//!
//! The `rrule` crate is always run on that UTC clock, so it sees wall-clock times
//! only, and each instance is converted to UTC by
//! [`Zone::to_epoch`](crate::time::Zone::to_epoch). RFC 5545 §3.3.10 builds instances
//! from the DTSTART's wall-clock time, and §3.3.5 reads a local time a daylight-saving
//! change skips with the offset before the gap and a repeated one as its first
//! occurrence. Handing the crate a zoned DTSTART loses that wall clock: a DTSTART in
//! the gap (02:30 New York on 2024-03-10, 07:30Z) came back as 03:30 and every later
//! instance moved an hour with it. The same conversion is used for DTSTART, EXDATE,
//! RDATE and RECURRENCE-ID, so they all line up.

pub(crate) mod dates;
pub(crate) mod expand;
pub(crate) mod frames;
pub(crate) mod instance;
pub(crate) mod overlap;
pub(crate) mod rule;
pub(crate) mod shape;
pub(crate) mod simple_rule;
pub(crate) mod trigger;
pub(crate) mod walk;
