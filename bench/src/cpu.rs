//! CPU time a server process has used, from `/proc/<pid>/stat`: user plus system
//! time of all its threads, in clock ticks (`getconf CLK_TCK`, 100 on Linux).
//! The servers run as processes of their own (`server`, `node_red`), so this
//! counts their work and none of the load generator's.

use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{Context, bail};

/// The CPU time process `pid` has used so far.
pub fn used(pid: u32) -> anyhow::Result<Duration> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let ticks = ticks_of(&stat).with_context(|| format!("parsing {path}: {stat:?}"))?;
    Ok(Duration::from_secs_f64(
        ticks as f64 / clock_ticks()? as f64,
    ))
}

/// The CPU time the processes `pids` have used so far, together (the gateway's
/// instances).
pub fn used_by(pids: &[u32]) -> anyhow::Result<Duration> {
    pids.iter().map(|&pid| used(pid)).sum()
}

/// utime + stime (fields 14 and 15) of a `/proc/<pid>/stat` line. The command
/// name (field 2) is in parentheses and may hold spaces or parentheses itself,
/// so the fields are counted from the last `)`.
fn ticks_of(stat: &str) -> anyhow::Result<u64> {
    let (_, rest) = stat.rsplit_once(')').context("no `)` after the command")?;
    // `rest` starts at field 3 (the state), so utime is its 12th field.
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let (Some(utime), Some(stime)) = (fields.get(11), fields.get(12)) else {
        bail!("fewer than 15 fields");
    };
    Ok(utime.parse::<u64>()? + stime.parse::<u64>()?)
}

/// Clock ticks per second, asked of `getconf` once.
fn clock_ticks() -> anyhow::Result<u64> {
    static TICKS: OnceLock<u64> = OnceLock::new();
    if let Some(&ticks) = TICKS.get() {
        return Ok(ticks);
    }
    let out = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .context("running getconf CLK_TCK")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let ticks: u64 = text
        .trim()
        .parse()
        .with_context(|| format!("getconf CLK_TCK printed {text:?}"))?;
    if ticks == 0 {
        bail!("getconf CLK_TCK printed 0");
    }
    Ok(*TICKS.get_or_init(|| ticks))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utime_and_stime_are_read_after_the_command_name() {
        // A command name with a space and a `)` of its own, as a thread may have.
        let stat = "4242 (node (red) x) S 1 4242 4242 0 -1 4194560 9597 0 0 0 \
                    1234 56 0 0 20 0 11 0 123456 1046577152 16384 18446744073709551615";
        assert_eq!(ticks_of(stat).unwrap(), 1234 + 56);
        assert!(ticks_of("4242 (short) S 1 2").is_err());
    }

    #[test]
    fn this_process_has_used_some_cpu() {
        let before = used(std::process::id()).unwrap();
        let mut x = 0u64;
        let spin = std::time::Instant::now();
        while spin.elapsed() < Duration::from_millis(200) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        let after = used(std::process::id()).unwrap();
        assert!(
            after > before,
            "{before:?} then {after:?} after 200 ms of spinning"
        );
    }
}
