extension Instances {
    /// Annotations grouped by image, in file order within each image (what torchvision's
    /// `CocoDetection` hands the notebook: `coco.loadAnns(coco.getAnnIds(img_id))`).
    public struct ImageIndex: Sendable {
        /// Position in `images` of each image id (the last entry of a repeated id, as COCO's index).
        public let imagePosition: [Int64: Int]
        /// Annotation indices of image i at `annotations[starts[i]..<starts[i + 1]]`.
        public let starts: [Int]
        public let annotations: [Int]

        /// The annotation indices of the image at position `i` of `images`.
        public func annotations(ofImageAt i: Int) -> ArraySlice<Int> { annotations[starts[i]..<starts[i + 1]] }
    }

    /// Builds the index (a counting sort: two passes over the annotations).
    public func imageIndex() -> ImageIndex {
        var position: [Int64: Int] = [:]
        position.reserveCapacity(images.count)
        for (i, im) in images.enumerated() { position[im.id] = i }
        var counts = [Int](repeating: 0, count: images.count + 1)
        var owner = [Int](repeating: -1, count: annotationCount)
        for a in 0..<annotationCount {
            if let i = position[imageIDs[a]] { owner[a] = i; counts[i + 1] += 1 }
        }
        for i in 0..<images.count { counts[i + 1] += counts[i] }
        var next = counts
        var order = [Int](repeating: 0, count: counts[images.count])
        for a in 0..<annotationCount where owner[a] >= 0 {
            order[next[owner[a]]] = a
            next[owner[a]] += 1
        }
        return ImageIndex(imagePosition: position, starts: counts, annotations: order)
    }
}
