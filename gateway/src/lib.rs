//! jembatan: carries purchase orders from buyers to craftsmen.
