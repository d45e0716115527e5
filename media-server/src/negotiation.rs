//! When the SFU may send a participant a new offer.
//!
//! The SFU answers a participant's first offer; after that it is the SFU that adds and
//! removes tracks, so it is the offerer. Offers are serialised: one outstanding at a time,
//! and changes made while one is outstanding are gathered into the next. The first offer
//! waits until the participant's connection is up — which proves the participant applied
//! the SFU's answer, so the offer cannot cross it in signaling (glare).

/// Sans-IO state of one participant's server-side renegotiation.
#[derive(Debug, Default)]
pub(crate) struct Negotiation {
    connected: bool,
    offer_outstanding: bool,
    dirty: bool,
}

/// [`Negotiation::answered`] was called with no offer outstanding.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct NoOfferOutstanding;

impl Negotiation {
    /// Tracks were added to or removed from the connection. Returns `true` when the caller
    /// must create and send an offer now.
    pub(crate) fn changed(&mut self) -> bool {
        self.dirty = true;
        self.try_start()
    }

    /// The connection reached `connected`. Returns `true` when an offer must be sent now.
    pub(crate) fn connected(&mut self) -> bool {
        self.connected = true;
        self.try_start()
    }

    /// The participant's answer to the outstanding offer was applied. Returns `true` when
    /// changes made meanwhile need another offer now.
    pub(crate) fn answered(&mut self) -> Result<bool, NoOfferOutstanding> {
        if !self.offer_outstanding {
            return Err(NoOfferOutstanding);
        }
        self.offer_outstanding = false;
        Ok(self.try_start())
    }

    /// Creating or sending the offer failed: forget it, and retry with the next change.
    pub(crate) fn offer_failed(&mut self) {
        self.offer_outstanding = false;
        self.dirty = true;
    }

    /// Whether an offer is waiting for the participant's answer.
    pub(crate) fn offer_outstanding(&self) -> bool {
        self.offer_outstanding
    }

    fn try_start(&mut self) -> bool {
        if self.connected && self.dirty && !self.offer_outstanding {
            self.dirty = false;
            self.offer_outstanding = true;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_before_connection_wait_for_it() {
        let mut n = Negotiation::default();
        assert!(!n.changed());
        assert!(!n.changed());
        assert!(n.connected());
        assert!(n.offer_outstanding());
    }

    #[test]
    fn nothing_to_offer_on_connection_without_changes() {
        let mut n = Negotiation::default();
        assert!(!n.connected());
        assert!(n.changed());
    }

    #[test]
    fn changes_during_an_offer_are_gathered_into_the_next() {
        let mut n = Negotiation::default();
        n.connected();
        assert!(n.changed());
        assert!(!n.changed());
        assert!(!n.changed());
        assert_eq!(n.answered(), Ok(true));
        assert_eq!(n.answered(), Ok(false));
        assert_eq!(n.answered(), Err(NoOfferOutstanding));
    }

    #[test]
    fn a_failed_offer_is_retried_with_the_next_change() {
        let mut n = Negotiation::default();
        n.connected();
        assert!(n.changed());
        n.offer_failed();
        assert!(!n.offer_outstanding());
        assert!(n.changed());
    }
}
