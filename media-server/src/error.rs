//! What can go wrong when driving the SFU.

/// Errors of [`Sfu`](crate::Sfu) operations.
///
/// Messages never carry room or participant ids: callers know which they asked for.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SfuError {
    /// A participant with this id is already in the room.
    #[error("participant is already in the room")]
    AlreadyJoined,
    /// The room is open for something else (an interview's id used for monitoring, or
    /// the reverse).
    #[error("the room is open for another purpose")]
    RoomKind,
    /// No participant with this id in the room.
    #[error("no such participant in the room")]
    UnknownParticipant,
    /// An answer came but the SFU is not waiting for one from this participant.
    #[error("no offer from the SFU is waiting for an answer")]
    NoPendingOffer,
    /// The media socket could not be bound.
    #[error("media socket: {0}")]
    Io(#[from] std::io::Error),
    /// The media loop has stopped (the runtime is shutting down).
    #[error("the media loop has stopped")]
    Stopped,
    /// The configuration cannot work.
    #[error("invalid configuration: {0}")]
    Config(&'static str),
    /// The WebRTC stack refused an operation (bad SDP, closed connection, …).
    #[error("webrtc: {0}")]
    WebRtc(#[from] rtc::shared::error::Error),
}
