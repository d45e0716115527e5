//! Just enough STUN to tell which connection a datagram from a new address is for.
//!
//! Every connection's ICE agent has a username fragment of its own, chosen by the SFU. A
//! peer's connectivity check (a STUN binding request) names it first in its USERNAME
//! attribute (`<SFU's ufrag>:<peer's ufrag>`, RFC 8445 §7.2.2), so the first packet from
//! an address says whose it is; later packets from that address are matched by address.

const MAGIC_COOKIE: [u8; 4] = [0x21, 0x12, 0xA4, 0x42];
const HEADER_LEN: usize = 20;
const USERNAME: u16 = 0x0006;

/// The SFU-side ufrag named by a STUN message's USERNAME, or `None` when `packet` is not
/// STUN or has no USERNAME.
pub(crate) fn local_ufrag(packet: &[u8]) -> Option<&str> {
    if packet.len() < HEADER_LEN || packet[0] & 0xC0 != 0 || packet[4..8] != MAGIC_COOKIE {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([packet[2], packet[3]]));
    let mut body = packet.get(HEADER_LEN..HEADER_LEN + len)?;
    while body.len() >= 4 {
        let kind = u16::from_be_bytes([body[0], body[1]]);
        let value_len = usize::from(u16::from_be_bytes([body[2], body[3]]));
        let value = body.get(4..4 + value_len)?;
        if kind == USERNAME {
            let username = std::str::from_utf8(value).ok()?;
            return username.split(':').next().filter(|u| !u.is_empty());
        }
        // Attributes are padded to 4 bytes.
        let padded = 4 + value_len.div_ceil(4) * 4;
        body = body.get(padded..).unwrap_or_default();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(attributes: &[(u16, &[u8])]) -> Vec<u8> {
        let mut body = Vec::new();
        for (kind, value) in attributes {
            body.extend_from_slice(&kind.to_be_bytes());
            body.extend_from_slice(&(value.len() as u16).to_be_bytes());
            body.extend_from_slice(value);
            while body.len() % 4 != 0 {
                body.push(0);
            }
        }
        let mut packet = vec![0x00, 0x01];
        packet.extend_from_slice(&(body.len() as u16).to_be_bytes());
        packet.extend_from_slice(&MAGIC_COOKIE);
        packet.extend_from_slice(&[7; 12]);
        packet.extend_from_slice(&body);
        packet
    }

    #[test]
    fn the_username_names_the_sfu_side_first() {
        let packet = message(&[(0x0024, &[0, 0, 0, 1]), (USERNAME, b"abcDEF12:peer9")]);
        assert_eq!(local_ufrag(&packet), Some("abcDEF12"));
        // A padded attribute before it is skipped whole.
        let packet = message(&[(0x8022, b"odd"), (USERNAME, b"x:y")]);
        assert_eq!(local_ufrag(&packet), Some("x"));
    }

    #[test]
    fn anything_else_names_nobody() {
        assert_eq!(local_ufrag(&message(&[(0x0024, &[0, 0, 0, 1])])), None);
        assert_eq!(local_ufrag(&message(&[(USERNAME, b":y")])), None);
        // RTP (version 2), DTLS (first byte 20..63), garbage and a truncated header.
        assert_eq!(local_ufrag(&[0x80; 40]), None);
        assert_eq!(local_ufrag(&[22; 40]), None);
        assert_eq!(local_ufrag(&[0, 1, 0]), None);
        // A length beyond the packet.
        let mut packet = message(&[(USERNAME, b"a:b")]);
        packet[3] = 200;
        assert_eq!(local_ufrag(&packet), None);
    }
}
