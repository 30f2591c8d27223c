//! Exact money. Amounts travel as decimal strings (`"12.50"`) or JSON numbers and are
//! stored as integer cents, so totals never pick up floating-point error.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};

/// A non-negative amount with at most two decimal places, in cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Money(i64);

/// Prices above this are refused (a sanity bound that also keeps totals far from overflow).
const MAX_CENTS: i64 = 100_000_000_000; // 1 000 000 000.00

impl Money {
    pub fn from_cents(cents: i64) -> Self {
        Money(cents)
    }

    pub fn cents(self) -> i64 {
        self.0
    }

    /// `self * quantity`, or `None` if that leaves the supported range.
    pub fn times(self, quantity: i64) -> Option<Money> {
        self.0.checked_mul(quantity).map(Money)
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }
}

impl TryFrom<Decimal> for Money {
    type Error = &'static str;

    fn try_from(amount: Decimal) -> Result<Self, Self::Error> {
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err("must not be negative");
        }
        if amount.normalize().scale() > 2 {
            return Err("must have at most 2 decimal places");
        }
        let cents = amount
            .checked_mul(Decimal::ONE_HUNDRED)
            .ok_or("is too large")?
            .trunc()
            .try_into()
            .map_err(|_| "is too large")?;
        if cents > MAX_CENTS {
            return Err("is too large");
        }
        Ok(Money(cents))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Amounts go out as decimal strings and come in as strings or numbers.
impl schemars::JsonSchema for Money {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Money".into()
    }

    // Inline: the schema differs between what is read and what is sent.
    fn inline_schema() -> bool {
        true
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let text = schemars::json_schema!({
            "type": "string",
            "pattern": "^[0-9]+\\.[0-9]{2}$",
            "description": "An amount with two decimals, e.g. \"12.50\"",
        });
        if generator.contract().is_serialize() {
            return text;
        }
        schemars::json_schema!({
                "description": "A non-negative amount with at most two decimals, as a string (\"12.50\") or a number (12.5)",
                "anyOf": [
                    { "type": "string" },
                    { "type": "number", "minimum": 0 },
                ],
        })
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let amount = <Decimal as Deserialize>::deserialize(deserializer)?;
        Money::try_from(amount).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: serde_json::Value) -> Result<Money, String> {
        serde_json::from_value(value).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_numbers_and_strings_exactly() {
        assert_eq!(parse(json!(12.5)).unwrap().cents(), 1250);
        assert_eq!(parse(json!("0.10")).unwrap().cents(), 10);
        assert_eq!(parse(json!(3)).unwrap().cents(), 300);
        assert_eq!(parse(json!(19.99)).unwrap().cents(), 1999);
    }

    #[test]
    fn refuses_fractions_of_cents_negatives_and_junk() {
        assert!(
            parse(json!(0.001))
                .unwrap_err()
                .contains("2 decimal places")
        );
        assert!(parse(json!(-1)).unwrap_err().contains("negative"));
        assert!(parse(json!("abc")).is_err());
        assert!(parse(json!(1e20)).unwrap_err().contains("too large"));
        // Beyond what a decimal holds once multiplied into cents.
        for huge in [
            json!("1000000000000000000000000000"),
            json!(1e27),
            json!(Decimal::MAX.to_string()),
        ] {
            assert!(
                parse(huge.clone()).unwrap_err().contains("too large"),
                "{huge}"
            );
        }
    }

    #[test]
    fn prints_two_decimals() {
        assert_eq!(Money::from_cents(1250).to_string(), "12.50");
        assert_eq!(Money::from_cents(5).to_string(), "0.05");
        assert_eq!(
            serde_json::to_value(Money::from_cents(100)).unwrap(),
            json!("1.00")
        );
    }
}
