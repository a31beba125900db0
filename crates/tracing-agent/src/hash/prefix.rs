//! The sort key of an object key: its first eight raw bytes as an integer, so most
//! comparisons while sorting keys are one integer comparison. Used by the scratch
//! buffer (keys it writes) and the string escaper (keys read back from escaped text).

/// The first eight bytes of `bytes`, big-endian and zero-padded (so integer order is byte
/// order, with ties left to a full comparison).
#[inline]
pub(crate) fn prefix_of(bytes: &[u8]) -> u64 {
    if let Some(first) = bytes.first_chunk::<8>() {
        return u64::from_be_bytes(*first);
    }
    // Short keys (most parameter and field names): two overlapping big-endian halves put
    // every byte in its place without a loop; the overlap ORs bytes onto themselves.
    let len = bytes.len();
    if len >= 4 {
        let half = |at: usize| {
            bytes
                .get(at..)
                .and_then(<[u8]>::first_chunk::<4>)
                .map_or(0, |w| u64::from(u32::from_be_bytes(*w)))
        };
        return (half(0) << 32) | (half(len - 4) << (64 - 8 * len));
    }
    // Shifted into a register rather than copied into a `[u8; 8]` and reloaded.
    pack(bytes.iter().copied())
}

/// Packs up to eight bytes big-endian into a zero-padded `u64`.
pub(crate) fn pack(bytes: impl Iterator<Item = u8>) -> u64 {
    let mut word = 0u64;
    let mut len = 0u32;
    for byte in bytes.take(8) {
        word = (word << 8) | u64::from(byte);
        len += 1;
    }
    word.checked_shl(8 * (8 - len)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::{pack, prefix_of};

    #[test]
    fn prefix_of_packs_every_length() {
        let bytes: Vec<u8> = (1..=12u8).map(|b| b.wrapping_mul(37) | 0x80).collect();
        for len in 0..=bytes.len() {
            let key = &bytes[..len];
            assert_eq!(prefix_of(key), pack(key.iter().copied()), "length {len}");
        }
    }
}
