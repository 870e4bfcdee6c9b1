//! Allocation of the index's big arrays on transparent huge pages.
//!
//! Queries touch a few thousand random places in arrays of tens to hundreds
//! of megabytes; with 4 KiB pages almost each touch also misses the TLB and
//! walks the page tables. Most distributions run THP in `madvise` mode, so
//! the arrays are advised before their first write (`vec![0; n]` of a large
//! size is fresh, untouched `mmap` memory, so the first touches fault in
//! 2 MiB pages). Measured at 10 M hashes; see bench/results/vigil-pdqindex.md.

/// A zero-filled vector of `n` elements, advised to use huge pages.
pub(crate) fn zeroed<T: bytemuck::Zeroable + Clone>(n: usize) -> Vec<T> {
    let v = vec![T::zeroed(); n];
    advise_huge(&v);
    v
}

/// A zero-filled vector without the advice (faults in 4 KiB pages, which
/// is several times cheaper than huge-page faults on a fragmented host).
pub(crate) fn zeroed_plain<T: bytemuck::Zeroable + Clone>(n: usize) -> Vec<T> {
    vec![T::zeroed(); n]
}

/// Arrays below this size gain nothing from huge pages.
const MIN_BYTES: usize = 4 << 20;

/// `VIGIL_PDQINDEX_HUGEPAGES=0` turns the advice off (e.g. where direct
/// compaction makes huge-page faults slow); read once per process.
#[cfg(target_os = "linux")]
fn enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var("VIGIL_PDQINDEX_HUGEPAGES").map_or(true, |v| v != "0"))
}

#[cfg(target_os = "linux")]
pub(crate) fn advise_huge<T>(v: &[T]) {
    const HUGE: usize = 2 << 20;
    let bytes = std::mem::size_of_val(v);
    if bytes < MIN_BYTES || !enabled() {
        return;
    }
    let start = v.as_ptr() as usize;
    let first = start.next_multiple_of(HUGE);
    let end = (start + bytes) / HUGE * HUGE;
    if end > first {
        // SAFETY: [first, end) lies inside the vector's own allocation;
        // MADV_HUGEPAGE only changes how the kernel backs those pages, never
        // their contents, and its failure (e.g. THP disabled) is harmless.
        unsafe {
            libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn advise_huge<T>(_v: &[T]) {
    let _ = MIN_BYTES;
}
