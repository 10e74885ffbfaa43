"""Order exports (CSV/XLSX from Taobao, JD, Shopify, generic or a TOML mapping) → orders."""
