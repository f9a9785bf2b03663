/// Writes instances JSON for the generated data sets, in COCO's own layout and key order, with
/// numbers in their shortest round-trip form (what Python's json writes), so the same data
/// gives the same bytes.
enum InstancesWriter {
    static func number(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }

    static func json(images: [ShapesImage], categories: [(Int64, String)]) -> String {
        var s = "{\"info\": {\"description\": \"rkan-repro shapes: a generated detection data set\", \"version\": \"1\"}, \"licenses\": [],\n\"images\": ["
        for (i, im) in images.enumerated() {
            if i > 0 { s += ",\n" }
            s += "{\"id\": \(im.id), \"file_name\": \"\(im.fileName)\", \"height\": \(im.size), \"width\": \(im.size)}"
        }
        s += "],\n\"annotations\": ["
        // Annotation ids: image id · 100 + position, unique across both splits.
        var first = true
        for im in images {
            for (k, a) in im.annotations.enumerated() {
                if !first { s += ",\n" }
                first = false
                let segmentation: String
                if let p = a.polygon {
                    segmentation = "[[" + p.map(number).joined(separator: ", ") + "]]"
                } else if a.crowd {
                    segmentation = "{\"size\": [\(a.rle.height), \(a.rle.width)], \"counts\": [" + a.rle.counts.map { String($0) }.joined(separator: ", ") + "]}"
                } else {
                    segmentation = "{\"size\": [\(a.rle.height), \(a.rle.width)], \"counts\": \(jsonString(a.rle.compressedCounts))}"
                }
                s += "{\"segmentation\": \(segmentation), \"area\": \(a.area), \"iscrowd\": \(a.crowd ? 1 : 0), \"image_id\": \(im.id), "
                s += "\"bbox\": [\(a.box.map(number).joined(separator: ", "))], \"category_id\": \(a.category), \"id\": \(im.id * 100 + Int64(k + 1))}"
            }
        }
        s += "],\n\"categories\": ["
        s += categories.map { "{\"supercategory\": \"shape\", \"id\": \($0.0), \"name\": \"\($0.1)\"}" }.joined(separator: ", ")
        return s + "]}\n"
    }
}
