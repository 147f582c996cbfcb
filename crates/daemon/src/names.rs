//! Container names: validation with Docker's rule and generated
//! `adjective_surname` names (surnames of notable scientists and engineers).

use berth_util::id::random_hex;

const ADJECTIVES: &[&str] = &[
    "admiring", "adoring", "affectionate", "agitated", "amazing", "angry", "awesome", "beautiful",
    "blissful", "bold", "boring", "brave", "busy", "charming", "clever", "compassionate",
    "competent", "condescending", "confident", "cool", "cranky", "crazy", "dazzling", "determined",
    "distracted", "dreamy", "eager", "ecstatic", "elastic", "elated", "elegant", "eloquent", "epic",
    "exciting", "fervent", "festive", "flamboyant", "focused", "friendly", "frosty", "funny",
    "gallant", "gifted", "goofy", "gracious", "great", "happy", "hardcore", "heuristic", "hopeful",
    "hungry", "infallible", "inspiring", "intelligent", "interesting", "jolly", "jovial", "keen",
    "kind", "laughing", "loving", "lucid", "magical", "modest", "musing", "mystifying", "naughty",
    "nervous", "nice", "nifty", "nostalgic", "objective", "optimistic", "peaceful", "pedantic",
    "pensive", "practical", "priceless", "quirky", "quizzical", "recursing", "relaxed", "reverent",
    "romantic", "sad", "serene", "sharp", "silly", "sleepy", "stoic", "strange", "stupefied",
    "suspicious", "sweet", "tender", "thirsty", "trusting", "unruffled", "upbeat", "vibrant",
    "vigilant", "vigorous", "wizardly", "wonderful", "xenodochial", "youthful", "zealous", "zen",
];

const SURNAMES: &[&str] = &[
    "agnesi", "albattani", "allen", "almeida", "archimedes", "ardinghelli", "aryabhata", "austin",
    "babbage", "banach", "bardeen", "bartik", "bassi", "bell", "benz", "bhabha", "bohr", "booth",
    "borg", "bose", "boyd", "brahmagupta", "brown", "carson", "cartwright", "cerf", "chandrasekhar",
    "chatelet", "clarke", "cohen", "colden", "cori", "cray", "curie", "darwin", "davinci", "dijkstra",
    "dubinsky", "easley", "edison", "einstein", "elgamal", "elion", "engelbart", "euclid", "euler",
    "faraday", "fermat", "fermi", "feynman", "franklin", "galileo", "gates", "goldberg", "goldstine",
    "golick", "goodall", "gould", "hamilton", "hawking", "heisenberg", "hermann", "hertz", "hodgkin",
    "hoover", "hopper", "hugle", "hypatia", "jackson", "jennings", "jepsen", "johnson", "joliot",
    "kalam", "kapitsa", "keldysh", "keller", "kepler", "khorana", "kilby", "kirch", "knuth",
    "kowalevski", "lalande", "lamarr", "lamport", "leakey", "leavitt", "lederberg", "lehmann",
    "lewin", "liskov", "lovelace", "lumiere", "mahavira", "margulis", "matsumoto", "maxwell",
    "mayer", "mccarthy", "mcclintock", "meitner", "mendel", "mendeleev", "merkle", "mirzakhani",
    "montalcini", "moore", "morse", "murdock", "napier", "nash", "neumann", "newton", "nobel",
    "noether", "northcutt", "noyce", "panini", "pare", "pascal", "pasteur", "payne", "perlman",
    "pike", "poincare", "poitras", "ptolemy", "raman", "ramanujan", "ride", "ritchie", "robinson",
    "roentgen", "rosalind", "rubin", "saha", "sammet", "shamir", "shannon", "shaw", "shirley",
    "shockley", "sinoussi", "snyder", "solomon", "spence", "stonebraker", "sutherland", "swanson",
    "swartz", "swirles", "taussig", "tesla", "tharp", "thompson", "torvalds", "turing", "varahamihira",
    "vaughan", "villani", "visvesvaraya", "volhard", "wescoff", "wiles", "williams", "wilson", "wing",
    "wozniak", "wright", "wu", "yalow", "yonath", "zhukovsky",
];

/// A random `adjective_surname`; `retry > 0` appends a digit as Docker does
/// after collisions.
pub fn generate(retry: u32) -> String {
    let r = u64::from_str_radix(&random_hex(8), 16).unwrap_or(0);
    let adj = ADJECTIVES[(r % ADJECTIVES.len() as u64) as usize];
    let sur = SURNAMES[((r >> 32) % SURNAMES.len() as u64) as usize];
    if retry == 0 {
        format!("{adj}_{sur}")
    } else {
        format!("{adj}_{sur}{}", (r >> 16) % 10)
    }
}

/// Checks a user-given name against Docker's `[a-zA-Z0-9][a-zA-Z0-9_.-]+` and
/// returns it without a leading `/`.
pub fn validate(name: &str) -> Result<&str, String> {
    let n = name.strip_prefix('/').unwrap_or(name);
    let mut chars = n.chars();
    let ok = n.len() >= 2
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if ok {
        Ok(n)
    } else {
        Err(format!(
            "Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_have_docker_shape() {
        for _ in 0..50 {
            let n = generate(0);
            let (a, s) = n.split_once('_').unwrap();
            assert!(ADJECTIVES.contains(&a) && SURNAMES.contains(&s), "{n}");
        }
        assert!(generate(1).chars().last().unwrap().is_ascii_digit());
    }

    #[test]
    fn validates_like_docker() {
        assert_eq!(validate("/web-1").unwrap(), "web-1");
        assert_eq!(validate("a.b_c").unwrap(), "a.b_c");
        assert!(validate("x").is_err());
        assert!(validate("-x").is_err());
        assert!(validate("a b").is_err());
        assert!(validate("héllo").is_err());
    }
}
