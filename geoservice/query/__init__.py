"""Reading requests: query parameters, CQL2 and its translation to SQL, filters, coordinate systems."""
