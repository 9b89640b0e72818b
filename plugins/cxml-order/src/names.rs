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
        }
    };
}

#[allow(non_camel_case_types)]
mod inner {
    names! {
        cXML, Header, From, To, Sender, Credential, Identity, Request, OrderRequest,
        OrderRequestHeader, Total, Money, Tax, TaxDetail, TaxableAmount, TaxAmount, ShipTo,
        BillTo, Address, Name, PostalAddress, DeliverTo, Street, City, Municipality, State,
        PostalCode, Country, Email, Phone, Fax, TelephoneNumber, CountryCode, AreaOrCityCode,
        Number, Extension, Shipping, Payment, PCard, PaymentToken, PaymentTerm, Discount,
        DiscountPercent, DiscountAmount, Contact, Comments, Attachment, URL,
        DocumentReference, SupplierOrderInfo, TermsOfDelivery, TermsOfDeliveryCode,
        ShippingPaymentMethod, TransportTerms, DeliveryPeriod, Period, ItemOut, ItemID,
        SupplierPartID, SupplierPartAuxiliaryID, BuyerPartID, IdReference, ItemDetail,
        UnitPrice, Description, ShortName, UnitOfMeasure, PriceBasisQuantity, Classification,
        ManufacturerPartID, ManufacturerName, LeadTime, Dimension, AttachmentReference,
        InternalID, Distribution, Accounting, Segment, Charge, ScheduleLine, Extrinsic, Message,
        Response, Status,
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
    }
}
