//! Large buffers go back to the system when freed.
//!
//! glibc serves an allocation above its mmap threshold (128 KiB at start)
//! with a mapping of its own and unmaps it on free, but each such free
//! raises the threshold to that size (up to 32 MiB): after one 5 MB
//! message, the next ones come from the heap of whichever thread allocates
//! them and stay in the process's memory after they are freed. Measured: 100
//! rejected 5 MB control requests took the service from 10.6 to 30 MB RSS;
//! with the threshold fixed, 10.5 to 10.5 MB. Fixing it at [`THRESHOLD_BYTES`]
//! keeps frame-sized buffers (a 640x480 RGB picture is 900 KiB) on the
//! heap, where they are reused without system calls, and returns anything
//! larger when it is freed.
//!
//! The one `unsafe` block outside the JPEG library's room: one call, made
//! before any thread starts.

/// Allocations above this are mapped and unmapped by themselves.
pub const THRESHOLD_BYTES: i32 = 1024 * 1024;

/// Fix glibc's mmap threshold (a no-op on other C libraries). Call once,
/// first thing in `main`.
pub fn return_large_buffers_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only sets a parameter of glibc's allocator; it
        // takes two integers, touches no memory of ours and is called
        // before any other thread exists, as glibc's manual asks of
        // allocator tuning.
        #[expect(unsafe_code, reason = "glibc's allocator has no safe interface")]
        let ok = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, THRESHOLD_BYTES) };
        if ok != 1 {
            tracing::debug!("mallopt(M_MMAP_THRESHOLD) refused");
        }
    }
}
