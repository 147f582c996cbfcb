//! Volume names of the `local` driver: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`, and the
//! 64-hex names given to anonymous volumes.

/// Why a name cannot be a local volume's, in Docker's words (without the
/// `create <name>: ` prefix the caller adds).
pub fn check(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !valid {
        return Err(format!(
            "\"{name}\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
        ));
    }
    if name.len() < 2 {
        return Err(
            "volume name is too short, names should be at least two alphanumeric characters".into(),
        );
    }
    Ok(())
}

/// A new anonymous volume's name: 64 random hex digits.
pub fn generate() -> String {
    berth_util::id::random_hex(32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_rules() {
        assert!(check("data").is_ok());
        assert!(check("a.b_c-1").is_ok());
        assert!(check("0x").is_ok());
        assert!(check("x").unwrap_err().contains("too short"));
        assert!(check("").unwrap_err().contains("invalid characters"));
        assert!(check("./rel").unwrap_err().contains("invalid characters"));
        assert!(check("a/b").unwrap_err().contains("invalid characters"));
        assert!(check("-ab").unwrap_err().contains("invalid characters"));
        let g = generate();
        assert_eq!(g.len(), 64);
        assert!(check(&g).is_ok());
    }
}
