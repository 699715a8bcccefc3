//! One file per command group; each turns its arguments into one core call and prints the answer.

pub mod activations;
pub mod admin;
pub mod backup;
pub mod email;
pub mod info;
pub mod keys;
pub mod licenses;
pub mod lookup;
pub mod outbox;
pub mod products;
pub mod releases;
pub mod remote;
pub mod review;
pub mod serve;
pub mod settings;
pub mod sites;
pub mod sync;
pub mod token;
pub mod updates;
pub mod webhooks;
