//! Integration tests: the real server on a loopback port, driven over HTTP.

mod integration;
