//! HTTP surface of Tessera.
