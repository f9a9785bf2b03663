print("rkan-repro: under construction")
