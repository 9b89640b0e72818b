//! What an EDI reading has made of a body so far: one outcome per transaction
//! (an X12 ST…SE, an EDIFACT UNH…UNT), the warnings about its envelopes, and the
//! rules both plugins follow for envelope problems, strict or not.

use jembatan_plugin_sdk::{Normalized, Outcome, PluginError, Transaction, TransactionId, Warning};

#[derive(Debug)]
pub struct Outcomes {
    /// One per transaction, in the order read; the index is its position.
    pub transactions: Vec<Transaction>,
    /// About the envelopes (read past when not strict).
    pub warnings: Vec<Warning>,
    /// The first envelope problem: the error to give when the body holds no
    /// transaction at all.
    first_problem: Option<PluginError>,
    strict: bool,
}

impl Outcomes {
    pub fn new(strict: bool) -> Self {
        Self {
            transactions: Vec::new(),
            warnings: Vec::new(),
            first_problem: None,
            strict,
        }
    }

    /// The index the next transaction gets.
    pub fn next_index(&self) -> u32 {
        u32::try_from(self.transactions.len()).unwrap_or(u32::MAX)
    }

    /// Remembers `err` as the body's first envelope problem, if it is.
    pub fn noted(&mut self, err: &PluginError) {
        self.first_problem.get_or_insert_with(|| err.clone());
    }

    /// An envelope count, control number, trailer or stray segment that
    /// disagrees with the content: with `strict`, kept as the envelope's
    /// `problem` (its first), which refuses its orders when it closes
    /// ([`Outcomes::refuse_orders`]); else a warning on the message, read past.
    pub fn tolerate(&mut self, err: PluginError, problem: &mut Option<PluginError>) {
        self.noted(&err);
        if self.strict {
            problem.get_or_insert(err);
        } else {
            self.warnings.push(err.into());
        }
    }

    /// Refuses with `err` every order from transaction `first` on (the orders of
    /// an envelope whose own problem refuses them).
    pub fn refuse_orders(&mut self, first: usize, err: &PluginError) {
        for transaction in &mut self.transactions[first..] {
            if let Outcome::Order(_) = transaction.outcome {
                transaction.outcome = Outcome::Refused(err.clone());
            }
        }
    }

    /// Reading stops at `err`: before any transaction it refuses the whole
    /// message; after one, the rest of the body becomes one refused transaction.
    pub fn stop(&mut self, mut err: PluginError) -> Result<(), PluginError> {
        if self.transactions.is_empty() {
            return Err(err);
        }
        err.message.push_str("; the body is not read past it");
        let mut id = TransactionId::new(self.next_index());
        id.location.clone_from(&err.location);
        self.transactions.push(Transaction::refused(id, err));
        Ok(())
    }

    /// What the plugin answers: the outcomes, or, when the body held no
    /// transaction, its first envelope problem (else `none`).
    pub fn finish(self, none: impl FnOnce() -> PluginError) -> Result<Normalized, PluginError> {
        if self.transactions.is_empty() {
            return Err(self.first_problem.unwrap_or_else(none));
        }
        Ok(Normalized {
            transactions: self.transactions,
            warnings: self.warnings,
        })
    }
}
