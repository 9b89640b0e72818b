//! The cXML element names the plugin reads, resolved once per element.
//!
//! cXML is defined by a DTD and has no namespace, but some systems add a default
//! namespace or a prefix; elements are matched by local name, so both work.

macro_rules! names {
    ($($name:ident),* $(,)?) => {
        /// A cXML element the plugin maps, or `Other`.
        // `cXML` and `Name` are the elements' own names.
        #[allow(clippy::upper_case_acronyms, clippy::enum_variant_names)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Name {
            Other,
            $($name,)*
        }

        impl Name {
            /// The element with local name `local`.
            pub fn resolve(local: &str) -> Self {
                match local {
                    $(stringify!($name) => Self::$name,)*
                    _ => Self::Other,
                }
            }

            /// The name as cXML writes it, for error paths.
            pub fn as_str(self) -> &'static str {
                match self {
                    Self::Other => "*",
                    $(Self::$name => stringify!($name),)*
                }
            }
        }
    };
}

#[allow(non_camel_case_types)]
mod inner {
    names! {
        cXML, Header, From, To, Credential, Identity, Request, OrderRequest,
        OrderRequestHeader, Total, Money, Tax, ShipTo, BillTo, Address, Name, PostalAddress,
        Street, City, State, PostalCode, Country, Email, Phone, TelephoneNumber,
        CountryCode, AreaOrCityCode, Number, Comments, ItemOut, ItemID, SupplierPartID,
        SupplierPartAuxiliaryID, BuyerPartID, ItemDetail, UnitPrice, Description,
        ShortName, UnitOfMeasure, ManufacturerPartID, ManufacturerName, Extrinsic,
    }
}

pub use inner::Name;

#[cfg(test)]
mod tests {
    use super::Name;

    #[test]
    fn resolves_local_names() {
        assert_eq!(Name::resolve("ItemOut"), Name::ItemOut);
        assert_eq!(Name::resolve("itemout"), Name::Other);
        assert_eq!(Name::cXML.as_str(), "cXML");
    }
}
