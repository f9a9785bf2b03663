print("rkan-bench")
