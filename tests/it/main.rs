//! The one integration-test binary: every test boots the real `jembatan` binary
//! on loopback and talks to it over HTTP.

mod harness;
mod peers;

mod admin_api;
mod admission;
mod api_errors;
mod browser;
mod channel_pauses;
mod chat_answers;
mod cli;
mod content_types;
mod corpus;
mod crash;
mod credentials;
mod database_outage;
mod delivery;
mod delivery_channels;
mod email;
mod email_authentication;
mod email_corpus;
mod email_replies;
mod formats;
mod hardening;
mod hostile_plugins;
mod inbox_page;
mod instances;
mod operations;
mod orders;
mod plugin_author;
mod plugin_lifecycle;
mod readme;
mod reminders;
mod rendered_responses;
mod responses;
mod routing;
mod settings;
mod startup;
mod stock_plugins;
mod transactions;
mod validation;
mod whatsapp;
