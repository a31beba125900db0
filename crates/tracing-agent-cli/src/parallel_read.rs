//! Reading one input on every core, with its events handed over in order.
//!
//! Parsing JSON is nearly all the work of `runs` and `stats`, and lines are independent:
//! a splitter thread cuts the input into blocks of whole lines, worker threads parse
//! blocks through the library's [`EventReader`] (so every line gets exactly the
//! treatment it gets when read in one piece: blank lines passed over, bad lines
//! skipped with their reason, a torn last line called torn), and the calling thread
//! takes the blocks back in their order and gets their items with the line numbers of
//! the whole input.
//!
//! Memory is bounded: at most [`BLOCKS_IN_FLIGHT`] blocks of about [`BLOCK`] bytes (and
//! their parsed events) exist at once, whatever the input's size. A line longer than
//! [`DEFAULT_MAX_LINE`] is no block's: from there the rest of the input is read on the
//! calling thread, as one stream, so the reader's limits (skip a runaway line, give up
//! on a file without newlines) apply exactly.

use std::collections::BTreeMap;
use std::io::{self, Cursor, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Mutex;
use std::thread;

use tracing_agent::read::{EventReader, Item, Skipped, DEFAULT_MAX_LINE};

/// The size of a block read from the input: large enough that handing it over costs
/// nothing next to parsing it.
pub(crate) const BLOCK: usize = 1 << 17;

/// Blocks read but not yet handed to the caller, at most.
pub(crate) const BLOCKS_IN_FLIGHT: usize = 4;

/// A block of whole lines (the last one unterminated only at the end of the input).
struct Block {
    seq: u64,
    /// Lines of the input before this block.
    first_line: u64,
    bytes: Vec<u8>,
}

/// A block, parsed.
struct Parsed {
    bytes: u64,
    items: Vec<Item>,
    /// What ended reading the block early: only a line without a newline past the
    /// give-up size, which no block holds; passed on all the same.
    error: Option<io::Error>,
}

/// What the splitter leaves when a line is too long for a block: the bytes read of it
/// and the input after them, and how many lines came before.
type Rest = (Vec<u8>, Box<dyn Read + Send>, u64);

/// Reads `input` and calls `on_item` for every item in order, until it returns false, and
/// `on_bytes` as bytes are consumed (for a progress indicator). An error reading the
/// input ends it.
pub(crate) fn read_items(
    input: Box<dyn Read + Send>,
    mut on_item: impl FnMut(&Item) -> bool,
    mut on_bytes: impl FnMut(u64),
) -> io::Result<()> {
    let workers = thread::available_parallelism().map_or(1, usize::from);
    let (block_tx, block_rx) = sync_channel::<Block>(BLOCKS_IN_FLIGHT);
    let (parsed_tx, parsed_rx) = sync_channel::<(u64, Parsed)>(BLOCKS_IN_FLIGHT);
    // Tickets bound the blocks in flight: the splitter takes one per block, the caller
    // gives it back when it has consumed that block.
    let (ticket_tx, ticket_rx) = sync_channel::<()>(BLOCKS_IN_FLIGHT);
    for _ in 0..BLOCKS_IN_FLIGHT {
        ticket_tx
            .send(())
            .expect("the channel has room for every ticket");
    }
    let block_rx = Mutex::new(block_rx);

    thread::scope(|scope| {
        let splitter = scope.spawn(move || split(input, block_tx, ticket_rx));
        for _ in 0..workers {
            let parsed_tx = parsed_tx.clone();
            let block_rx = &block_rx;
            scope.spawn(move || parse_blocks(block_rx, parsed_tx));
        }
        drop(parsed_tx);
        // Freeing a block's events (their strings) is a tenth of the work: done on a
        // thread of its own, so the calling thread only sums events up.
        let (spent_tx, spent_rx) = sync_channel::<Vec<Item>>(1);
        scope.spawn(move || spent_rx.into_iter().for_each(drop));

        let mut waiting: BTreeMap<u64, Parsed> = BTreeMap::new();
        let mut next = 0;
        // By value: an early return drops the receiver, so that no worker waits for ever
        // to hand over a block, and the scope can end.
        for (seq, parsed) in parsed_rx {
            waiting.insert(seq, parsed);
            while let Some(Parsed {
                bytes,
                items,
                error,
            }) = waiting.remove(&next)
            {
                next += 1;
                if !items.iter().all(&mut on_item) {
                    return Ok(());
                }
                if let Some(error) = error {
                    return Err(error);
                }
                on_bytes(bytes);
                // The dropping thread ends only when this sender is dropped.
                let _ = spent_tx.send(items);
                // The splitter may be gone (end of input): then no ticket is wanted.
                let _ = ticket_tx.send(());
            }
        }
        drop(ticket_tx);
        drop(spent_tx);
        let rest = splitter.join().expect("the splitter does not panic")?;
        if let Some((head, tail, lines_before)) = rest {
            let mut events = EventReader::new(Cursor::new(head).chain(tail));
            let mut counted = 0;
            while let Some(item) = events.next() {
                if !on_item(&renumbered(item?, lines_before)) {
                    return Ok(());
                }
                on_bytes(events.bytes_read() - counted);
                counted = events.bytes_read();
            }
        }
        Ok(())
    })
}

fn renumbered(item: Item, lines_before: u64) -> Item {
    match item {
        Item::Skipped(Skipped { line_no, reason }) => Item::Skipped(Skipped {
            line_no: line_no + lines_before,
            reason,
        }),
        event => event,
    }
}

/// Cuts `input` into blocks of whole lines; returns the rest of the input when a line is
/// too long for a block.
fn split(
    mut input: Box<dyn Read + Send>,
    blocks: SyncSender<Block>,
    tickets: Receiver<()>,
) -> io::Result<Option<Rest>> {
    let mut pending: Vec<u8> = Vec::with_capacity(2 * BLOCK);
    let (mut seq, mut lines) = (0, 0);
    let mut send = |bytes: Vec<u8>, lines: &mut u64| -> bool {
        if tickets.recv().is_err() {
            return false;
        }
        let first_line = *lines;
        *lines += bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        let sent = blocks
            .send(Block {
                seq,
                first_line,
                bytes,
            })
            .is_ok();
        seq += 1;
        sent
    };
    loop {
        // Appended without zero-filling first: `take` reads at most a block.
        pending.reserve(BLOCK);
        let read = loop {
            match (&mut input).take(BLOCK as u64).read_to_end(&mut pending) {
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                other => break other?,
            }
        };
        if read == 0 {
            if !pending.is_empty() {
                send(pending, &mut lines);
            }
            return Ok(None);
        }
        match pending.iter().rposition(|&b| b == b'\n') {
            // Whole lines enough for a block: hand them over; else read on.
            Some(last) if last + 1 >= BLOCK / 4 => {
                let tail = pending.split_off(last + 1);
                let block = std::mem::replace(&mut pending, tail);
                if !send(block, &mut lines) {
                    return Ok(None);
                }
            }
            Some(_) => {}
            None if pending.len() > DEFAULT_MAX_LINE => {
                return Ok(Some((pending, input, lines)));
            }
            None => {}
        }
    }
}

fn parse_blocks(blocks: &Mutex<Receiver<Block>>, parsed: SyncSender<(u64, Parsed)>) {
    loop {
        let block = match blocks.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        let Ok(Block {
            seq,
            first_line,
            bytes,
        }) = block
        else {
            return;
        };
        let mut items = Vec::with_capacity(bytes.len() / 256);
        let mut error = None;
        for item in EventReader::new(bytes.as_slice()) {
            match item {
                Ok(item) => items.push(renumbered(item, first_line)),
                Err(failed) => error = Some(failed),
            }
        }
        let done = Parsed {
            bytes: bytes.len() as u64,
            items,
            error,
        };
        if parsed.send((seq, done)).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(item: &Item) -> String {
        match item {
            Item::Event(event) => format!("event {}", event.ts_ms),
            Item::Skipped(skipped) => skipped.to_string(),
        }
    }

    /// What the library's reader says of `input`, read in one piece.
    fn sequential(input: &[u8]) -> Vec<String> {
        EventReader::new(input)
            .map(|item| show(&item.unwrap()))
            .collect()
    }

    fn items(input: Vec<u8>) -> (Vec<String>, u64) {
        let mut seen = Vec::new();
        let mut bytes = 0;
        read_items(
            Box::new(Cursor::new(input)),
            |item| {
                seen.push(show(item));
                true
            },
            |n| bytes += n,
        )
        .unwrap();
        (seen, bytes)
    }

    #[test]
    fn many_blocks_come_back_in_order_with_their_line_numbers() {
        let mut log = Vec::new();
        let mut expected = Vec::new();
        // About 20 blocks' worth, with a bad line every 1000.
        for n in 1..=200_000u64 {
            if n % 1000 == 0 {
                log.extend_from_slice(b"not an event\n");
                expected.push(format!("line {n}: "));
            } else {
                log.extend_from_slice(
                    format!(r#"{{"run_id":"r","kind":"tool_result","ts_ms":{n},"tool":"a-padded-tool-name","status":"ok"}}"#).as_bytes(),
                );
                log.push(b'\n');
                expected.push(format!("event {n}"));
            }
        }
        log.extend_from_slice(br#"{"run_id":"r","kind":"to"#);
        expected.push("line 200001: torn last line (no newline at the end)".to_owned());
        let size = log.len() as u64;
        assert!(size > 10 * BLOCK as u64);
        let reference = sequential(&log);
        let (seen, bytes) = items(log);
        assert_eq!(seen.len(), expected.len());
        for (seen, expected) in seen.iter().zip(&expected) {
            assert!(
                seen.starts_with(expected.as_str()),
                "{seen} is not {expected}..."
            );
        }
        assert_eq!(seen, reference);
        assert_eq!(bytes, size);
    }

    #[test]
    fn a_line_longer_than_the_limit_is_skipped_and_reading_goes_on() {
        let mut log = b"{\"run_id\":\"r\",\"kind\":\"stop\",\"ts_ms\":1}\n".to_vec();
        log.extend(std::iter::repeat_n(b'x', DEFAULT_MAX_LINE + 10));
        log.extend_from_slice(b"\n{\"run_id\":\"r\",\"kind\":\"stop\",\"ts_ms\":3}\n");
        let reference = sequential(&log);
        let (seen, _) = items(log);
        assert_eq!(seen.len(), 3);
        assert_eq!((seen[0].as_str(), seen[2].as_str()), ("event 1", "event 3"));
        assert!(seen[1].starts_with("line 2: "), "{}", seen[1]);
        assert_eq!(seen, reference);
    }

    #[test]
    fn empty_input() {
        assert_eq!(items(Vec::new()), (vec![], 0));
    }
}
