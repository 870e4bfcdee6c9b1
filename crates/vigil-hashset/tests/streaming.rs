//! Streaming: a VICS document of hundreds of thousands of entries parses with
//! a flat heap. Measured with a counting allocator (peak live bytes), not
//! with time.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};

#[path = "../examples/support/synth.rs"]
#[allow(dead_code)]
mod synth;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: defers to the system allocator; only adds bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn large_vics_parses_with_flat_memory() {
    const N: u64 = 200_000;
    let mut input = synth::SyntheticVics::minimal(N);
    let baseline = LIVE.load(Ordering::Relaxed);
    PEAK.store(baseline, Ordering::Relaxed);
    let mut pdq = 0u64;
    let report = vigil_hashset::import(&mut input, &Default::default(), |item| {
        if item.expect("synthetic entries are valid").pdq.is_some() {
            pdq += 1;
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    let peak = PEAK.load(Ordering::Relaxed) - baseline;
    assert_eq!(report.entries, N);
    assert_eq!(pdq, N);
    let input_bytes = input.produced;
    assert!(input_bytes > 12 << 20, "input is {input_bytes} bytes");
    // Only the duplicate-MediaID bitmap grows (1 bit per id: 25 KB here).
    // A reader that buffered the document or kept entries would need tens
    // of MB.
    let limit = 1 << 20;
    assert!(
        peak < limit,
        "peak live heap {peak} bytes for a {input_bytes}-byte input"
    );
}
