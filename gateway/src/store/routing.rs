//! The routing rules, written once in Rust for every engine: which deliveries an
//! order routed to a craftsman gets, and what status an order has given its
//! deliveries. An engine reads the craftsman's channels and the deliveries' states
//! and writes what these functions decide; none of it is SQL, so a second engine
//! cannot disagree with the first, and the answer to a post reports exactly what
//! was stored.

use super::{DeliveryState, OrderStatus};

/// One of a craftsman's channels, as routing needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelState {
    pub id: String,
    /// Why the channel is disabled (a webhook's 410, say); `None` while enabled.
    pub disabled_reason: Option<String>,
}

/// A delivery as an order is routed: due at once on an enabled channel, dead on a
/// disabled one (so it shows, and an admin can retry it once the channel is back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    pub channel_id: String,
    pub state: DeliveryState,
    /// For a dead delivery, why.
    pub error: Option<String>,
}

/// What routing an order to a craftsman with these channels writes: one delivery
/// per channel, and the order's status, derived from them exactly as
/// [`status_of`] derives it later (the inbox alone makes an order `delivered`).
pub fn route(channels: &[ChannelState]) -> (OrderStatus, Vec<NewDelivery>) {
    let deliveries: Vec<NewDelivery> = channels
        .iter()
        .map(|channel| match &channel.disabled_reason {
            None => NewDelivery {
                channel_id: channel.id.clone(),
                state: DeliveryState::Pending,
                error: None,
            },
            Some(reason) => NewDelivery {
                channel_id: channel.id.clone(),
                state: DeliveryState::Dead,
                error: Some(format!("channel disabled: {reason}")),
            },
        })
        .collect();
    let status = status_of(deliveries.iter().map(|d| d.state));
    (status, deliveries)
}

/// The channels a reminder of an unanswered order goes to: the craftsman's enabled
/// ones. A disabled channel gets none (unlike an order, whose delivery there is
/// written dead so that it shows): a reminder is worth nothing later, and the
/// admin sees the order awaiting its answer anyway.
pub fn reminder_channels(channels: &[ChannelState]) -> Vec<String> {
    channels
        .iter()
        .filter(|channel| channel.disabled_reason.is_none())
        .map(|channel| channel.id.clone())
        .collect()
}

/// A routed order's status from its deliveries' states: `received` while any is
/// pending, else `failed` if any is dead, else `delivered` (also with none at all:
/// the craftsman has only the inbox, which holds the order).
pub fn status_of(states: impl IntoIterator<Item = DeliveryState>) -> OrderStatus {
    let (mut pending, mut dead) = (false, false);
    for state in states {
        match state {
            DeliveryState::Pending => pending = true,
            DeliveryState::Dead => dead = true,
            DeliveryState::Succeeded => {}
        }
    }
    if pending {
        OrderStatus::Received
    } else if dead {
        OrderStatus::Failed
    } else {
        OrderStatus::Delivered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(id: &str, disabled: Option<&str>) -> ChannelState {
        ChannelState {
            id: id.to_owned(),
            disabled_reason: disabled.map(str::to_owned),
        }
    }

    #[test]
    fn the_inbox_alone_delivers_at_once() {
        assert_eq!(route(&[]), (OrderStatus::Delivered, vec![]));
    }

    #[test]
    fn an_enabled_channel_makes_a_pending_delivery_and_a_received_order() {
        let (status, deliveries) = route(&[channel("chn_1", None), channel("chn_2", Some("410"))]);
        assert_eq!(status, OrderStatus::Received);
        assert_eq!(deliveries[0].state, DeliveryState::Pending);
        assert_eq!(deliveries[1].state, DeliveryState::Dead);
        assert_eq!(
            deliveries[1].error.as_deref(),
            Some("channel disabled: 410")
        );
    }

    #[test]
    fn only_disabled_channels_fail_the_order() {
        let (status, deliveries) = route(&[channel("chn_1", Some("gone"))]);
        assert_eq!(status, OrderStatus::Failed);
        assert_eq!(deliveries.len(), 1);
    }

    #[test]
    fn status_follows_the_deliveries() {
        use DeliveryState::*;
        assert_eq!(status_of([Succeeded, Pending, Dead]), OrderStatus::Received);
        assert_eq!(status_of([Succeeded, Dead]), OrderStatus::Failed);
        assert_eq!(status_of([Succeeded, Succeeded]), OrderStatus::Delivered);
        assert_eq!(status_of([]), OrderStatus::Delivered);
    }
}
