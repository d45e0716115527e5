//! The one task that closes empty rooms: it sleeps until [`Rooms::poll_timeout`], closes
//! what is due, and is woken early when a room empties (a new, earlier deadline).

use std::sync::{Mutex, Weak};

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::rooms::Rooms;
use crate::sfu::lock;

/// Runs until the rooms are gone: closes each room when it has been empty for its
/// `close_after`, telling `closed` its name. `emptied` is notified whenever a room
/// empties.
pub(crate) async fn close_empty_rooms<P, T>(
    rooms: Weak<Mutex<Rooms<P, T>>>,
    emptied: &Notify,
    mut closed: impl FnMut(String),
) {
    loop {
        let Some(due) = rooms.upgrade().map(|r| lock(&r).poll_timeout()) else {
            return;
        };
        match due {
            Some(at) => tokio::select! {
                () = tokio::time::sleep_until(at.into()) => {}
                () = emptied.notified() => continue,
            },
            None => {
                emptied.notified().await;
                continue;
            }
        }
        let Some(rooms) = rooms.upgrade() else {
            return;
        };
        let expired = lock(&rooms).close_expired(Instant::now().into_std());
        for room in expired {
            closed(room);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use tokio::sync::mpsc;

    use super::*;
    use crate::RoomKind;

    const CLOSE: Duration = Duration::from_secs(30);

    fn now() -> std::time::Instant {
        Instant::now().into_std()
    }

    #[tokio::test(start_paused = true)]
    async fn rooms_close_when_their_deadline_comes_and_a_rejoin_cancels_it() {
        let rooms = Arc::new(Mutex::new(Rooms::<u32, ()>::new(CLOSE)));
        let emptied = Arc::new(Notify::new());
        let (tx, mut closed) = mpsc::unbounded_channel();
        let task = tokio::spawn({
            let (rooms, emptied) = (Arc::downgrade(&rooms), emptied.clone());
            async move {
                close_empty_rooms(rooms, &emptied, |r| {
                    let _ = tx.send((r, Instant::now()));
                })
                .await
            }
        });
        let t0 = Instant::now();
        for r in ["a", "b"] {
            lock(&rooms).join(r, RoomKind::Interview, "p", 1).unwrap();
        }
        // "a" empties at once, "b" 10 s later but is joined again before its deadline.
        lock(&rooms).leave("a", "p", now()).unwrap();
        emptied.notify_one();
        tokio::time::sleep(Duration::from_secs(10)).await;
        lock(&rooms).leave("b", "p", now()).unwrap();
        emptied.notify_one();
        let (room, at) = closed.recv().await.unwrap();
        assert_eq!((room.as_str(), at - t0), ("a", CLOSE));
        lock(&rooms).join("b", RoomKind::Interview, "q", 2).unwrap();
        // Emptied again at 45 s: closes at 75 s, not at its first deadline (40 s).
        tokio::time::sleep(Duration::from_secs(15)).await;
        lock(&rooms).leave("b", "q", now()).unwrap();
        emptied.notify_one();
        let (room, at) = closed.recv().await.unwrap();
        assert_eq!((room.as_str(), at - t0), ("b", Duration::from_secs(75)));
        assert_eq!(lock(&rooms).counts(), (0, 0));
        // The rooms gone, the task ends.
        drop(rooms);
        emptied.notify_one();
        task.await.unwrap();
    }
}
