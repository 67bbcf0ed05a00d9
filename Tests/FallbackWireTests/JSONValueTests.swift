import Testing

@testable import FallbackWire

@Suite("JSON: values, accessors, copy-on-write")
struct JSONValueTests {
    @Test("building with literals")
    func literals() {
        let value: JSON = ["b": 1, "a": [true, nil, 2.5, "x", ["k": []]], "c": 0.2, "d": false]
        #expect(value.serialized == #"{"b":1,"a":[true,null,2.5,"x",{"k":[]}],"c":0.2,"d":false}"#)
        let object = JSON.object(["z": .int(1), "y": .optional(nil as String?), "x": .optional(3 as Int?)])
        #expect(object.serialized == #"{"z":1,"y":null,"x":3}"#)
        #expect(JSON.array([.string("a"), .bool(true), .emptyObject, .emptyArray]).serialized == #"["a",true,{},[]]"#)
    }

    @Test("kinds and accessors return nil for the wrong kind")
    func accessors() throws {
        let doc = try json(#"{"s":"str","i":7,"r":7.5,"t":true,"f":false,"n":null,"a":[1,"2"],"o":{"k":"v"}}"#)
        let s = try #require(doc["s"]), i = try #require(doc["i"]), r = try #require(doc["r"])
        let t = try #require(doc["t"]), n = try #require(doc["n"]), a = try #require(doc["a"]), o = try #require(doc["o"])

        #expect([s, i, r, t, n, a, o].map(\.kind) == [.string, .integer, .real, .bool, .null, .array, .object])
        #expect(s.stringValue == "str" && s.intValue == nil && s.doubleValue == nil && s.boolValue == nil)
        #expect(i.intValue == 7 && i.doubleValue == 7.0 && i.stringValue == nil && i.boolValue == nil)
        #expect(r.intValue == nil, "reals are not truncated to integers")
        #expect(r.doubleValue == 7.5)
        #expect(t.boolValue == true && doc["f"]?.boolValue == false && t.intValue == nil)
        #expect(n.isNull && n.stringValue == nil && n.boolValue == nil && !s.isNull)
        #expect(a.arrayValue?.count == 2 && a.objectValue == nil && a.stringValue == nil)
        #expect(o.objectValue?.map(\.key) == ["k"] && o.arrayValue == nil)
        #expect(s.arrayValue == nil && s.objectValue == nil && i.arrayValue == nil)
        #expect([s, i, r, t, n].map(\.count) == [0, 0, 0, 0, 0])
        #expect(a.count == 2 && o.count == 1 && doc.count == 8)
    }

    @Test("member and index lookups: missing, out of range, wrong container")
    func lookups() throws {
        let doc = try json(#"{"a":[10,20],"":"empty"}"#)
        #expect(doc["missing"] == nil)
        #expect(doc[member: "a"]?[1]?.intValue == 20)
        #expect(doc[""]?.stringValue == "empty")
        let array = try #require(doc["a"])
        #expect(array[0]?.intValue == 10)
        #expect(array[2] == nil)
        #expect(array[-1] == nil)
        #expect(array["a"] == nil, "member lookup on an array")
        #expect(doc[0] == nil, "index lookup on an object")
        #expect(JSON.int(1)["a"] == nil)
        #expect(JSON.string("abc")[0] == nil)
        #expect(JSON.null["x"] == nil)
    }

    @Test("objectValue lists members in document order; duplicates keep the last value")
    func objectOrder() throws {
        let doc = try json(#"{"z":1,"a":2,"m":3,"a":4}"#)
        let members = try #require(doc.objectValue)
        #expect(members.map(\.key) == ["z", "a", "m"])
        #expect(members.map { $0.value.intValue } == [1, 4, 3])
    }

    @Test("setting on a non-object and appending to a non-array do nothing")
    func mutatingWrongKind() {
        var number = JSON.int(5)
        number["k"] = "v"
        #expect(number.serialized == "5")
        var object: JSON = ["a": 1]
        object.append(2)
        #expect(object.serialized == #"{"a":1}"#)
    }

    @Test("setting replaces in place, nil removes, new keys go last")
    func settingMembers() {
        var object: JSON = ["a": 1, "b": 2, "c": 3]
        object["b"] = "two"
        object["a"] = nil
        object["d"] = [1]
        object["missing"] = nil
        #expect(object.serialized == #"{"b":"two","c":3,"d":[1]}"#)
    }

    @Test("== is structural: key order does not matter, kinds do")
    func equality() throws {
        #expect(try json(#"{"a":1,"b":[1,2]}"#) == json(#"{"b":[1,2],"a":1}"#))
        #expect(try json("[1,2]") != json("[2,1]"))
        #expect(try json("1") != json("1.0"), "integer 1 and real 1.0 differ in jansson")
        #expect(try json(#"{"a":null}"#) != json("{}"))
        #expect(JSON.string("x") == "x")
    }

    @Test("copy-on-write: mutating a copy leaves the original alone")
    func copyOnWriteCopy() throws {
        let original = try json(#"{"a":1,"list":[1,2]}"#)
        var copy = original
        copy["a"] = 99
        copy["new"] = true
        #expect(original.serialized == #"{"a":1,"list":[1,2]}"#)
        #expect(copy.serialized == #"{"a":99,"list":[1,2],"new":true}"#)

        let array: JSON = [1, 2]
        var grown = array
        grown.append(3)
        #expect(array.serialized == "[1,2]")
        #expect(grown.serialized == "[1,2,3]")
    }

    @Test("copy-on-write: a child taken from a parsed tree never changes its parent")
    func copyOnWriteChild() throws {
        let parent = try json(#"{"obj":{"k":1},"list":[1,2]}"#)
        var child = try #require(parent["obj"])
        child["k"] = 2
        child["extra"] = "x"
        var list = try #require(parent["list"])
        list.append(3)
        var viaMembers = try #require(parent.objectValue?.first?.value)
        viaMembers["k"] = 7
        #expect(parent.serialized == #"{"obj":{"k":1},"list":[1,2]}"#)
        #expect(child.serialized == #"{"k":2,"extra":"x"}"#)
        #expect(list.serialized == "[1,2,3]")
        #expect(viaMembers.serialized == #"{"k":7}"#)

        // And through the parent's own subscript chain: only the mutated copy changes.
        var edited = parent
        edited["obj"]?["k"] = 5
        #expect(edited["obj"]?["k"]?.intValue == 5)
        #expect(parent["obj"]?["k"]?.intValue == 1)
    }

    @Test("copy-on-write: mutating the parent never changes a child taken earlier")
    func copyOnWriteParent() throws {
        var parent = try json(#"{"obj":{"k":1}}"#)
        let child = try #require(parent["obj"])
        parent["obj"]?["k"] = 2
        parent["obj2"] = child
        #expect(child.serialized == #"{"k":1}"#)
        #expect(parent.serialized == #"{"obj":{"k":2},"obj2":{"k":1}}"#)
    }

    @Test("copy-on-write: a value inserted into a tree is not changed through the tree, nor the tree through it")
    func copyOnWriteInserted() throws {
        var shared: JSON = ["k": 1]
        var tree: JSON = [:]
        tree["a"] = shared
        tree["b"] = shared
        shared["k"] = 2
        #expect(tree.serialized == #"{"a":{"k":1},"b":{"k":1}}"#)
        tree["a"]?["k"] = 3
        #expect(tree.serialized == #"{"a":{"k":3},"b":{"k":1}}"#)
        #expect(shared.serialized == #"{"k":2}"#)
    }

    @Test("a value appended to itself makes a copy, not a cycle")
    func selfAppend() {
        var array: JSON = [1]
        array.append(array)
        #expect(array.serialized == "[1,[1]]")
        var object: JSON = ["a": 1]
        object["self"] = object
        #expect(object.serialized == #"{"a":1,"self":{"a":1}}"#)
    }

    @Test("values are Sendable: many tasks read and copy one tree")
    func concurrentReads() async throws {
        let tree = try json(#"{"list":[1,2,3],"obj":{"k":"v"}}"#)
        let results = await withTaskGroup(of: String.self) { group in
            for n in 0..<200 {
                group.addTask {
                    var mine = tree
                    mine["n"] = .int(n)
                    var list = mine["list"]!
                    list.append(.int(n))
                    return list.serialized
                }
            }
            var all: [String] = []
            for await text in group { all.append(text) }
            return all
        }
        #expect(Set(results).count == 200)
        #expect(tree.serialized == #"{"list":[1,2,3],"obj":{"k":"v"}}"#)
    }
}
