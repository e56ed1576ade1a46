//! Human durations in config: `"60s"`, `"5m"`, `"1h30m"`, `"250ms"`, or a bare number of seconds.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A duration written as `"60s"`, `"5m"`, `"1h30m"`, `"250ms"` or a number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Dur(pub Duration);

impl Dur {
    /// Parses `"60s"`, `"5m"`, `"1h 30m"`, `"250ms"`, `"0"`.
    pub fn parse(s: &str) -> Result<Dur, String> {
        let t = s.trim();
        if t == "0" {
            return Ok(Dur(Duration::ZERO));
        }
        if let Ok(secs) = t.parse::<f64>() {
            return secs_to_dur(secs).ok_or_else(|| bad(s));
        }
        humantime::parse_duration(t).map(Dur).map_err(|_| bad(s))
    }
}

fn bad(s: &str) -> String {
    format!("invalid duration '{s}'; write it like \"60s\", \"5m\", \"1h30m\" or \"500ms\"")
}

fn secs_to_dur(secs: f64) -> Option<Dur> {
    // `from_secs_f64` panics past `Duration::MAX`; too long a duration is an error here
    // and the limits of each key are checked in validation
    Duration::try_from_secs_f64(secs).ok().map(Dur)
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration like \"60s\", \"5m\" or \"500ms\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Dur, E> {
                Dur::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dur, E> {
                Ok(Dur(Duration::from_secs(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dur, E> {
                u64::try_from(v)
                    .map(|v| Dur(Duration::from_secs(v)))
                    .map_err(|_| E::custom(bad(&v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dur, E> {
                secs_to_dur(v).ok_or_else(|| E::custom(bad(&v.to_string())))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        assert_eq!(Dur::parse("60s").unwrap().0, Duration::from_secs(60));
        assert_eq!(Dur::parse("5m").unwrap().0, Duration::from_secs(300));
        assert_eq!(Dur::parse("1h30m").unwrap().0, Duration::from_secs(5400));
        assert_eq!(Dur::parse("250ms").unwrap().0, Duration::from_millis(250));
        assert_eq!(Dur::parse("1.5").unwrap().0, Duration::from_millis(1500));
        assert_eq!(Dur::parse("0").unwrap().0, Duration::ZERO);
    }

    #[test]
    fn rejects_garbage_with_a_hint() {
        for s in [
            "6x0s",
            "sixty",
            "-5s",
            "",
            "5 parsecs",
            "1e30",
            "-1",
            "NaN",
            "inf",
        ] {
            let e = Dur::parse(s).unwrap_err();
            assert!(e.contains("invalid duration"), "{s}: {e}");
            assert!(e.contains("\"60s\""), "{e}");
        }
    }

    #[test]
    fn deserializes_strings_and_numbers() {
        let d: Dur = serde_yaml::from_str("\"2m\"").unwrap();
        assert_eq!(d.0, Duration::from_secs(120));
        let d: Dur = serde_yaml::from_str("30").unwrap();
        assert_eq!(d.0, Duration::from_secs(30));
        assert!(serde_yaml::from_str::<Dur>("-3").is_err());
    }
}
