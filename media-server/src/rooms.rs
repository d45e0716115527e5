//! The room registry: who is in which room, which tracks are published there, and when an
//! empty room closes.
//!
//! Sans-IO and generic over what a participant and a track are, so its rules are tested in
//! virtual time without a single socket. A room exists from its first join; when its last
//! participant leaves it stays open for `close_after` (a participant who reconnects finds it
//! again), then [`Rooms::close_expired`] removes it. [`Rooms::poll_timeout`] says when the
//! next room closes; the media loop sleeps until then (among its other deadlines).

use crate::sample::RoomKind;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// One room: its participants by id, and the tracks published in it.
#[derive(Debug)]
pub(crate) struct Room<P, T> {
    pub(crate) kind: RoomKind,
    pub(crate) participants: HashMap<String, P>,
    pub(crate) tracks: Vec<T>,
    empty_since: Option<Instant>,
}

/// Every room of this SFU.
#[derive(Debug)]
pub(crate) struct Rooms<P, T> {
    rooms: HashMap<String, Room<P, T>>,
    close_after: Duration,
}

impl<P, T> Rooms<P, T> {
    pub(crate) fn new(close_after: Duration) -> Self {
        Self {
            rooms: HashMap::new(),
            close_after,
        }
    }

    /// Adds `participant` to `room`, opening the room as `kind` if needed and cancelling its
    /// closing. Gives the value back if that id is already in the room, or the room is of
    /// another kind.
    pub(crate) fn join(
        &mut self,
        room: &str,
        kind: RoomKind,
        participant: &str,
        value: P,
    ) -> Result<(), P> {
        let entry = self.rooms.entry(room.to_owned()).or_insert_with(|| Room {
            kind,
            participants: HashMap::new(),
            tracks: Vec::new(),
            empty_since: None,
        });
        if entry.kind != kind || entry.participants.contains_key(participant) {
            return Err(value);
        }
        entry.participants.insert(participant.to_owned(), value);
        entry.empty_since = None;
        Ok(())
    }

    /// Removes `participant` from `room` at `now`. Returns its value and, when the room is
    /// now empty, the instant at which it closes.
    pub(crate) fn leave(
        &mut self,
        room: &str,
        participant: &str,
        now: Instant,
    ) -> Option<(P, Option<Instant>)> {
        let entry = self.rooms.get_mut(room)?;
        let value = entry.participants.remove(participant)?;
        let closes_at = if entry.participants.is_empty() {
            entry.empty_since = Some(now);
            Some(now + self.close_after)
        } else {
            None
        };
        Some((value, closes_at))
    }

    /// Closes every room that has been empty for `close_after` at `now`; returns their names.
    pub(crate) fn close_expired(&mut self, now: Instant) -> Vec<String> {
        let close_after = self.close_after;
        let expired: Vec<String> = self
            .rooms
            .iter()
            .filter(|(_, room)| {
                room.participants.is_empty()
                    && room
                        .empty_since
                        .is_some_and(|since| now >= since + close_after)
            })
            .map(|(name, _)| name.clone())
            .collect();
        for name in &expired {
            self.rooms.remove(name);
        }
        expired
    }

    /// The earliest instant at which an empty room closes.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.rooms
            .values()
            .filter_map(|room| room.empty_since.map(|since| since + self.close_after))
            .min()
    }

    /// What `room` is for, while it is open.
    pub(crate) fn kind(&self, room: &str) -> Option<RoomKind> {
        self.rooms.get(room).map(|r| r.kind)
    }

    pub(crate) fn get(&self, room: &str) -> Option<&Room<P, T>> {
        self.rooms.get(room)
    }

    pub(crate) fn get_mut(&mut self, room: &str) -> Option<&mut Room<P, T>> {
        self.rooms.get_mut(room)
    }

    /// A participant of a room.
    pub(crate) fn participant(&self, room: &str, participant: &str) -> Option<&P> {
        self.rooms.get(room)?.participants.get(participant)
    }

    /// Every (room, participant) pair.
    pub(crate) fn all_participants(&self) -> impl Iterator<Item = (&str, &str)> {
        self.rooms.iter().flat_map(|(name, room)| {
            room.participants
                .keys()
                .map(move |p| (name.as_str(), p.as_str()))
        })
    }

    /// Open rooms (empty ones waiting to close included) and participants in them.
    pub(crate) fn counts(&self) -> (usize, usize) {
        let participants = self.rooms.values().map(|r| r.participants.len()).sum();
        (self.rooms.len(), participants)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLOSE: Duration = Duration::from_secs(30);

    #[test]
    fn a_room_closes_only_after_its_last_participant_left_for_long_enough() {
        let t0 = Instant::now();
        let mut rooms: Rooms<u32, ()> = Rooms::new(CLOSE);
        rooms.join("r", RoomKind::Interview, "a", 1).unwrap();
        rooms.join("r", RoomKind::Interview, "b", 2).unwrap();
        assert_eq!(rooms.counts(), (1, 2));

        let (value, closes) = rooms.leave("r", "a", t0).unwrap();
        assert_eq!((value, closes), (1, None));
        let (_, closes) = rooms.leave("r", "b", t0 + Duration::from_secs(5)).unwrap();
        let closes = closes.expect("empty room gets a deadline");
        assert_eq!(closes, t0 + Duration::from_secs(5) + CLOSE);
        assert_eq!(rooms.poll_timeout(), Some(closes));

        assert!(
            rooms
                .close_expired(closes - Duration::from_millis(1))
                .is_empty()
        );
        assert_eq!(rooms.counts(), (1, 0));
        assert_eq!(rooms.close_expired(closes), vec!["r".to_owned()]);
        assert_eq!(rooms.counts(), (0, 0));
        assert_eq!(rooms.poll_timeout(), None);
    }

    #[test]
    fn rejoining_cancels_the_closing() {
        let t0 = Instant::now();
        let mut rooms: Rooms<u32, ()> = Rooms::new(CLOSE);
        rooms.join("r", RoomKind::Interview, "a", 1).unwrap();
        let (_, closes) = rooms.leave("r", "a", t0).unwrap();
        rooms.join("r", RoomKind::Interview, "a", 3).unwrap();
        assert!(rooms.close_expired(closes.unwrap()).is_empty());
        assert_eq!(rooms.participant("r", "a"), Some(&3));
    }

    #[test]
    fn one_id_once_per_room_but_free_across_rooms() {
        let mut rooms: Rooms<u32, ()> = Rooms::new(CLOSE);
        rooms.join("r1", RoomKind::Interview, "a", 1).unwrap();
        assert_eq!(rooms.join("r1", RoomKind::Interview, "a", 2), Err(2));
        rooms.join("r2", RoomKind::Interview, "a", 3).unwrap();
        // A room keeps the kind it opened with.
        assert_eq!(rooms.join("r2", RoomKind::Monitoring, "b", 4), Err(4));
        assert_eq!(rooms.kind("r2"), Some(RoomKind::Interview));
        assert_eq!(rooms.counts(), (2, 2));
    }

    #[test]
    fn leaving_an_unknown_room_or_participant_is_none() {
        let mut rooms: Rooms<u32, ()> = Rooms::new(CLOSE);
        assert!(rooms.leave("r", "a", Instant::now()).is_none());
        rooms.join("r", RoomKind::Interview, "a", 1).unwrap();
        assert!(rooms.leave("r", "b", Instant::now()).is_none());
    }
}
