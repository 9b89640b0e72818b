//! The UBL element names the plugin reads, resolved once per element.
//!
//! Each start tag is turned into a one-byte [`Name`] from its namespace and local
//! name, so the mapping below matches on slices of `Name`s instead of comparing
//! strings, and an element in any other namespace (extensions, a cXML document)
//! becomes [`Name::Other`] and never matches.

/// `cac:` aggregate components.
pub const CAC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2";
/// `cbc:` basic components.
pub const CBC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";
/// The Order document.
pub const ORDER: &str = "urn:oasis:names:specification:ubl:schema:xsd:Order-2";
/// The Standard Business Document Header (UN/CEFACT SBDH 1.3) Peppol wraps a
/// document in.
pub const SBDH: &str = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader";

/// Which of the UBL namespaces an element is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ns {
    Order,
    Cac,
    Cbc,
    Sbdh,
    Other,
}

impl Ns {
    /// Classifies a resolved namespace URI.
    pub fn of(uri: Option<&str>) -> Self {
        match uri {
            Some(CAC) => Self::Cac,
            Some(CBC) => Self::Cbc,
            Some(ORDER) => Self::Order,
            Some(SBDH) => Self::Sbdh,
            _ => Self::Other,
        }
    }
}

macro_rules! names {
    ($($ns:ident { $($name:ident),* $(,)? })*) => {
        /// A UBL element the plugin maps, or `Other`.
        // Variants are the UBL local names verbatim (`PartyName`), which the
        // resolver matches with `stringify!`, so they cannot be renamed.
        #[allow(clippy::enum_variant_names, clippy::upper_case_acronyms)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Name {
            Other,
            $($($name,)*)*
        }

        impl Name {
            /// The name of an element in namespace `ns` with local name `local`.
            pub fn resolve(ns: Ns, local: &str) -> Self {
                match ns {
                    $(Ns::$ns => match local {
                        $(stringify!($name) => Self::$name,)*
                        _ => Self::Other,
                    },)*
                    Ns::Other => Self::Other,
                }
            }

            /// The name with its conventional prefix, for error paths.
            pub fn qualified(self) -> &'static str {
                match self {
                    Self::Other => "*",
                    $($(Self::$name => names!(@qualified $ns $name),)*)*
                }
            }
        }
    };
    (@qualified Order $name:ident) => { stringify!($name) };
    (@qualified Cac $name:ident) => { concat!("cac:", stringify!($name)) };
    (@qualified Cbc $name:ident) => { concat!("cbc:", stringify!($name)) };
    (@qualified Sbdh $name:ident) => { concat!("sbdh:", stringify!($name)) };
}

names! {
    Order { Order }
    Cac {
        BuyerCustomerParty, SellerSupplierParty, AccountingCustomerParty, OriginatorCustomerParty,
        Party, PartyIdentification, PartyName, PartyTaxScheme, PartyLegalEntity, TaxScheme,
        PostalAddress, AddressLine, Country, Contact, Person, DeliveryContact, Delivery,
        DeliveryAddress, DeliveryLocation, DeliveryParty, Address, RequestedDeliveryPeriod,
        DeliveryTerms, PaymentTerms, ValidityPeriod, QuotationDocumentReference,
        OrderDocumentReference, OriginatorDocumentReference, AdditionalDocumentReference,
        DocumentReference, Contract, ProjectReference, Attachment, ExternalReference,
        AllowanceCharge, TaxCategory, TaxTotal, TaxSubtotal, AnticipatedMonetaryTotal, OrderLine,
        LineItem, Price, Item, BuyersItemIdentification, SellersItemIdentification,
        ManufacturersItemIdentification, StandardItemIdentification, AdditionalItemIdentification,
        ItemSpecificationDocumentReference, AdditionalItemProperty, CommodityClassification,
        OriginCountry, ClassifiedTaxCategory,
    }
    Cbc {
        UBLVersionID, CustomizationID, ProfileID, ID, CopyIndicator, IssueDate, OrderTypeCode,
        DocumentCurrencyCode, Note, CustomerReference, AccountingCost, AccountingCostCode,
        SalesOrderID, EndpointID, Name, CompanyID, RegistrationName, StreetName,
        AdditionalStreetName, BuildingNumber, Line, CityName, PostalZone, CountrySubentity,
        IdentificationCode, Telephone, Telefax, ElectronicMail, FirstName, MiddleName, FamilyName,
        JobTitle, CustomerAssignedAccountID, SupplierAssignedAccountID, StartDate, EndDate, SpecialTerms, ContractType,
        DocumentTypeCode, DocumentType, DocumentDescription, VersionID,
        EmbeddedDocumentBinaryObject, URI, PaymentDueDate, SettlementDiscountPercent,
        ChargeIndicator, AllowanceChargeReasonCode, AllowanceChargeReason,
        MultiplierFactorNumeric, SequenceNumeric, Amount, BaseAmount, Percent,
        TaxExemptionReason, TaxableAmount, TaxAmount, LineExtensionAmount, TaxExclusiveAmount,
        TaxInclusiveAmount, AllowanceTotalAmount, ChargeTotalAmount, PrepaidAmount,
        PayableRoundingAmount, PayableAmount, Quantity, TotalTaxAmount, PartialDeliveryIndicator,
        PriceAmount, BaseQuantity, Description, Value, ValueQuantity, ValueQualifier,
        ItemClassificationCode,
    }
    Sbdh {
        StandardBusinessDocument, StandardBusinessDocumentHeader, Sender, Receiver, Identifier,
        DocumentIdentification, InstanceIdentifier,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_by_namespace_and_local_name() {
        assert_eq!(Name::resolve(Ns::Cbc, "ID"), Name::ID);
        assert_eq!(Name::resolve(Ns::Cac, "ID"), Name::Other);
        assert_eq!(Name::resolve(Ns::Other, "ID"), Name::Other);
        assert_eq!(Name::resolve(Ns::Order, "Order"), Name::Order);
        assert_eq!(Name::OrderLine.qualified(), "cac:OrderLine");
        assert_eq!(Ns::of(Some(CBC)), Ns::Cbc);
        assert_eq!(Ns::of(None), Ns::Other);
    }
}
