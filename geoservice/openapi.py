def document(oas):
    return oas
